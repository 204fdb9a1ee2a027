// Keyboard shortcuts of the staff consoles: Alt + the letter in an element's data-shortcut.
// A button or link is pressed; a field is focused (a checkbox: focused, not toggled).
// Plain letters are left alone so typing in a field never triggers anything.
document.addEventListener("keydown", function (event) {
  // event.code, not event.key: Option+letter on a Mac types another character
  var letter = /^Key([A-Z])$/.exec(event.code || "");
  if (!event.altKey || event.ctrlKey || event.metaKey || !letter) return;
  var target = document.querySelector('[data-shortcut="' + letter[1].toLowerCase() + '"]');
  if (!target) return;
  event.preventDefault();
  if (target.matches("button, a")) {
    target.click();
  } else {
    target.focus();
  }
});
