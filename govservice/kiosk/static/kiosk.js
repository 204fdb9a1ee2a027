// 自助终端: sign out after a minute without a touch (with a warning first), keep the server's
// session alive while someone is using the page, print on the print pages, submit once.
(function () {
  "use strict";
  var body = document.body;

  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("[data-once]").forEach(function (b) { b.disabled = true; });
    });
  });

  var printable = document.querySelector("[data-print]");
  if (printable) {
    window.addEventListener("load", function () { window.print(); });
    document.querySelectorAll("[data-print-again]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  // The signed reader: the terminal's shell (reader agent) reads the card, signs the reading with
  // the nonce in data-nonce and hands it to the page as a "kiosk:card" event; the page signs in.
  var cardForm = document.getElementById("kiosk-card");
  if (cardForm) {
    document.addEventListener("kiosk:card", function (event) {
      var reading = event.detail && event.detail.reading;
      if (typeof reading !== "string" || !reading) { return; }
      document.getElementById("kiosk-reading").value = reading;
      cardForm.submit();
    });
  }

  var idle = Number(body.dataset.idleSeconds || 0);
  if (!idle) { return; }
  var warnFor = Math.min(15, Math.floor(idle / 2));
  var dialog = document.getElementById("kiosk-idle");
  var count = document.getElementById("kiosk-idle-count");
  var signOut = document.getElementById("kiosk-sign-out");
  var aliveUrl = body.dataset.aliveUrl;
  var last = Date.now(), pinged = Date.now(), done = false;

  function touched() {
    if (dialog.open) { return; }
    last = Date.now();
    if (last - pinged > 20000) {
      pinged = last;
      fetch(aliveUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": body.dataset.csrf } })
        .then(function (r) {
        if (r.status === 401) { window.location.reload(); }
      }).catch(function () {});
    }
  }
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (name) {
    window.addEventListener(name, touched, { capture: true, passive: true });
  });
  document.getElementById("kiosk-continue").addEventListener("click", function () {
    dialog.close();
    pinged = 0;
    touched();
  });
  setInterval(function () {
    var quiet = (Date.now() - last) / 1000;
    if (done) { return; }
    if (quiet >= idle) {
      done = true;
      signOut.querySelector("[name=reason]").value = "idle";
      signOut.submit();
    } else if (quiet >= idle - warnFor) {
      if (!dialog.open) { dialog.showModal(); }
      count.textContent = String(Math.ceil(idle - quiet));
    }
  }, 250);
})();
