// motcua console: live updates by short polling (no framework, no build step).
// A page with an element #live[data-live] asks /cap-nhat every POLL_MS; when the fingerprint
// of the user's dossiers changes, it fetches the same page again and swaps #live in place.
// Deadline alerts raised since the page opened are shown in the #alerts banner.
(function () {
  "use strict";
  var POLL_MS = 10000;
  var live = document.getElementById("live");
  var alerts = document.getElementById("alerts");
  var version = null;
  var since = new Date().toISOString();
  var seen = {};
  var labels = {due_soon: "sắp đến hạn", overdue: "đã quá hạn",
                overdue_without_apology: "quá hạn chưa có văn bản xin lỗi",
                supplement_received: "công dân đã nộp giấy tờ bổ sung tại quầy; thời hạn tính tiếp"};

  function refresh() {
    fetch(window.location.href, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        if (fresh && live) { live.replaceChildren.apply(live, Array.from(fresh.childNodes)); }
      });
  }

  function showAlerts(list) {
    if (!alerts) { return; }
    list.forEach(function (a) {
      var key = a.code + a.kind + a.at;
      if (seen[key]) { return; }
      seen[key] = true;
      var p = document.createElement("p");
      var link = document.createElement("a");
      link.href = "/ho-so/" + encodeURIComponent(a.code);
      link.textContent = a.code;
      p.append("Cảnh báo: hồ sơ ", link, " " + (labels[a.kind] || a.kind) + ".");
      alerts.prepend(p);
      alerts.hidden = false;
    });
  }

  function poll() {
    fetch("/cap-nhat?since=" + encodeURIComponent(since), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        showAlerts(data.alerts || []);
        if (version !== null && data.version !== version && live) { refresh(); }
        version = data.version;
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  if (live || alerts) {
    poll();
    window.setInterval(poll, POLL_MS);
  }

  // The receipt's QR code opens /tra-cuu#<code>.<secret>: fill the lookup form from the
  // fragment (which the browser never sends), drop it from the address bar, and send the form.
  var form = document.getElementById("lookup-form");
  var hash = window.location.hash.slice(1);
  if (form && hash) {
    var dot = decodeURIComponent(hash).lastIndexOf(".");
    if (dot > 0) {
      var raw = decodeURIComponent(hash);
      form.elements.ma.value = raw.slice(0, dot);
      form.elements.k.value = raw.slice(dot + 1);
      window.history.replaceState(null, "", window.location.pathname);
      form.submit();
    }
  }

  // The kiosk's thank-you screen goes back to the waiting screen by itself.
  if (document.querySelector("[data-testid=thanks]")) {
    window.setTimeout(function () { window.location.replace("/danh-gia"); }, 8000);
  }
})();
