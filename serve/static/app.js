// mxray serve: progressive enhancement only; every page works without it.
// - A result page streams its parts in the order they finish; this moves
//   each part into its slot (report order) and the summary to the top,
//   and announces progress to screen readers.
// - Copy buttons next to the records to publish.
// - Enter in the one-line question submits the form.
"use strict";
document.documentElement.classList.add("js");

(function () {
  function announce(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }

  // place moves a finished fragment where it belongs.
  function place(el) {
    if (el.classList.contains("final")) {
      var top = document.getElementById("summary-slot");
      if (top) { top.replaceChildren(el); }
      announce("Finished.");
      return;
    }
    var part = el.getAttribute("data-part");
    var slot = document.getElementById("slot-" + part);
    if (!slot) {
      slot = document.createElement("div");
      slot.className = "slot";
      document.getElementById("slots").appendChild(slot);
    }
    slot.replaceChildren(el);
    if (el.childElementCount === 0) { slot.remove(); }
    announce(part + " done.");
  }

  // sweep places every fragment the parser has finished: one followed by
  // its tick, or all of them once the document is complete.
  function sweep(all) {
    var stream = document.getElementById("stream");
    if (!stream) { return; }
    var items = stream.querySelectorAll(":scope > .part, :scope > .final");
    for (var i = 0; i < items.length; i++) {
      if (all || items[i].nextElementSibling) { place(items[i]); }
    }
  }

  var watcher = new MutationObserver(function () { sweep(false); });
  watcher.observe(document.documentElement, { childList: true, subtree: true });

  document.addEventListener("DOMContentLoaded", function () {
    sweep(true);
    watcher.disconnect();
    var q = document.getElementById("q");
    if (q) {
      q.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey && q.value.indexOf("\n") < 0 && q.value.trim() !== "" && q.value.length < 300) {
          ev.preventDefault();
          q.form.requestSubmit();
        }
      });
    }
  });

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.copy");
    if (!b) { return; }
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(src.textContent).then(function () {
      b.textContent = "Copied";
      announce("Record copied.");
      setTimeout(function () { b.textContent = "Copy"; }, 2000);
    });
  });
})();
