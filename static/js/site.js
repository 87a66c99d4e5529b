// Progressive enhancement for every page (loaded by base.html); every page works without it.
(function () {
  "use strict";

  // Print buttons (no inline scripts: the page's Content-Security-Policy forbids them).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Take focus to the error summary so screen readers announce it; its links lead on to
  // each field.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
