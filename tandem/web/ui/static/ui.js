// The dashboard's live progress bar: while a cycle runs, the progress block is fetched again every second.
// An answer that is not the block (the session ended: it was redirected to sign-in) reloads the page.
(function () {
  function poll() {
    var block = document.getElementById("progress");
    if (!block || !block.dataset.running) return;
    setTimeout(function () {
      fetch("/ui/progress", { credentials: "same-origin" })
        .then(function (answer) {
          if (answer.redirected || !answer.ok) return null;
          return answer.text();
        })
        .then(function (html) {
          var parsed = document.createElement("template");
          parsed.innerHTML = html || "";
          var fresh = parsed.content.getElementById("progress");
          var current = document.getElementById("progress");
          if (!fresh || !current) { window.location.reload(); return; }
          current.replaceWith(fresh);
          if (!fresh.dataset.running) { window.location.reload(); return; }
          poll();
        }, poll);  // no answer at all (the server restarts): ask again
    }, 1000);
  }
  document.addEventListener("DOMContentLoaded", poll);
})();
