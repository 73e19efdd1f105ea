// Progressive enhancement for the listing and referral pages: everything works without it.
(function () {
  "use strict";
  function reportHeight() {
    if (window.parent !== window) {
      var height = document.documentElement.scrollHeight;
      window.parent.postMessage({ type: "lahella-bridge:height", height: height }, "*");
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.filters select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var print = document.getElementById("print");
    if (print) {
      print.hidden = false;
      print.addEventListener("click", function () { window.print(); });
    }
    reportHeight();
    if (window.ResizeObserver) {
      new ResizeObserver(reportHeight).observe(document.documentElement);
    }
  });
  window.addEventListener("load", reportHeight);
})();
