// A submit button marked data-once disables itself after the first click, so a double click
// sends one request. The server is idempotent anyway (the form carries an idempotency key).
document.addEventListener("submit", function (event) {
  var button = event.target.querySelector("button[data-once]");
  if (button) {
    setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
  }
});
