// The Print button of every paper (issue 23 item 15): the browser's print dialog, no Ctrl+P.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
