// Progressive enhancement for intake pages; every page works without it.
(function () {
  "use strict";

  // Questions that apply only to some answers ("details on a yes", the injection date...):
  // without JavaScript they are always shown; with it, they are hidden until they apply.
  function chosen(name) {
    var inputs = document.querySelectorAll('input[name="' + name + '"]:checked');
    return Array.prototype.map.call(inputs, function (input) { return input.value; });
  }

  // data-value: shown when that answer is chosen (among radios or checkboxes);
  // data-value-not: shown when any answer but that one is chosen.
  function applies(block) {
    var values = chosen(block.dataset.revealFor);
    if (block.dataset.value !== undefined) {
      return values.indexOf(block.dataset.value) !== -1;
    }
    return values.length > 0 && values.indexOf(block.dataset.valueNot) === -1;
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

})();
