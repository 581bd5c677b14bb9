// The checkout's countdown: the minutes and seconds left of a hold (data-countdown, UTC).
"use strict";
(function () {
  document.querySelectorAll("[data-countdown]").forEach(function (element) {
    var ends = Date.parse(element.getAttribute("data-countdown").replace(/Z$/, "").replace(/\+00:00$/, "") + "Z");
    function tick() {
      var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      element.textContent = "(" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + ")";
      if (left > 0) { setTimeout(tick, 1000); } else { window.location.reload(); }
    }
    tick();
  });
})();
