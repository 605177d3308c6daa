// The progress bar of a stamp request while its codes are issued: polls a small JSON endpoint
// and reloads the page when the issuance is over. Without JavaScript the page refreshes itself.
(function () {
  var bar = document.getElementById("progress");
  if (!bar || !bar.dataset.url) { return; }
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(bar.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.value = p.issued_count;
        if (text) { text.textContent = p.issued_count + " / " + p.quantity; }
        if (p.state === "approved" || p.state === "issuing") { setTimeout(poll, 1500); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1500);
})();
