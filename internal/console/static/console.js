// Copy buttons: the one thing the console does with script. Without
// script the buttons stay hidden and the text can be selected by hand.
(function () {
  "use strict";
  function select(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  function said(button, text) {
    button.textContent = text;
    setTimeout(function () { button.textContent = "Copy"; }, 2500);
  }
  function copy(button) {
    var el = document.getElementById(button.getAttribute("data-copy"));
    if (!el) { return; }
    var text = el.textContent;
    var fallback = function () {
      select(el);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      said(button, ok ? "Copied" : "Selected: press Ctrl+C");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { said(button, "Copied"); }, fallback);
    } else {
      fallback();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      b.hidden = false;
      b.setAttribute("aria-live", "polite");
      b.addEventListener("click", function (ev) { copy(ev.currentTarget); });
    }
  });
})();
