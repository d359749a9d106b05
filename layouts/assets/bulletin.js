/* The bulletin's print button: a script file, because the CSP runs no inline handler. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
