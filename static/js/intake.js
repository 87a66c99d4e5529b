// Progressive enhancement for intake pages; every page works without it.
(function () {
  "use strict";

  // Questions that apply only to some answers ("details on a yes", the injection date...):
  // without JavaScript they are always shown; with it, they are hidden until they apply.
  function chosen(name) {
    var checked = document.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function applies(block) {
    var value = chosen(block.dataset.revealFor);
    if (block.dataset.value !== undefined) {
      return value === block.dataset.value;
    }
    return value !== "" && value !== block.dataset.valueNot;
  }

  document.querySelectorAll("[data-reveal-for]").forEach(function (block) {
    var update = function () {
      // A block holding an error message stays visible, so the message can be read.
      block.hidden = !applies(block) && !block.querySelector(".is-invalid");
    };
    document.querySelectorAll('input[name="' + block.dataset.revealFor + '"]').forEach(
      function (input) { input.addEventListener("change", update); }
    );
    update();
  });

  // Print buttons (no inline scripts: the page's Content-Security-Policy may forbid them).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Take focus to the error summary so screen readers announce it.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
