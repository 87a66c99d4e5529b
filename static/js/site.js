// Progressive enhancement for every page (loaded by base.html); every page works without it.
(function () {
  "use strict";

  // Print buttons (no inline scripts: the page's Content-Security-Policy forbids them).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Take focus to the error summary so screen readers announce it; its links lead on to
  // each field. A form that marks its first wrong field (data-first-error, with autofocus so
  // it also works without this script) keeps the focus there: label and message are read.
  var firstError = document.querySelector("[data-first-error]");
  var summary = document.getElementById("form-errors");
  if (firstError) { firstError.focus(); } else if (summary) { summary.focus(); }
})();
