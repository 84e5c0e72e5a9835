// The dashboard's live progress bar: while a cycle runs, the progress block is fetched again every second.
(function () {
  function poll() {
    var block = document.getElementById("progress");
    if (!block || !block.dataset.running) return;
    setTimeout(function () {
      fetch("/ui/progress", { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) return;
          var current = document.getElementById("progress");
          current.outerHTML = html;
          var fresh = document.getElementById("progress");
          if (!fresh.dataset.running) { window.location.reload(); return; }
          poll();
        });
    }, 1000);
  }
  document.addEventListener("DOMContentLoaded", poll);
})();
