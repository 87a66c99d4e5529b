// Saves a draft note a few seconds after the practitioner stops typing. The "Save draft"
// button does the same without JavaScript. If the note was saved from another tab in the
// meantime, the server refuses (409) and this says so instead of overwriting it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("autosave-status");
  var revision = form.querySelector('input[name="revision"]');
  var timer = null;
  var stopped = false;
  var saving = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    if (stopped || saving) { return; }
    saving = true;
    // Not form.action: the submit buttons are named "action" and shadow that property.
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Autosave": "1" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      saving = false;
      if (result.status === 200) {
        revision.value = result.body.revision;
        say("Draft saved at " + result.body.saved_at + ".");
      } else if (result.status === 400) {
        say("Not saved yet: some fields need correcting. Use “Save draft” to see them.");
      } else {
        stopped = true;
        say(result.body.error || "Not saved.");
        if (status) { status.setAttribute("role", "alert"); status.classList.add("text-danger"); }
      }
    }).catch(function () {
      saving = false;
      say("Not saved: the connection failed. Your text is still here; try “Save draft”.");
    });
  }

  function later() {
    if (stopped) { return; }
    window.clearTimeout(timer);
    say("Unsaved changes…");
    timer = window.setTimeout(save, 3000);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", function () { window.clearTimeout(timer); stopped = true; });
})();
