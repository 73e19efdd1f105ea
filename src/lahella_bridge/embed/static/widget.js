// <div data-lahella-bridge data-municipality="564" data-theme="..." data-lang="fi"></div>
// <script src="https://HOST/embed/widget.js" async></script>
// Renders the listing into each host element; no framework needed by the host page.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/embed/widget.js", window.location.href).origin;
  var FILTERS = ["municipality", "stage", "theme", "activity_type", "q"];
  var LANGUAGES = ["fi", "sv", "en"];
  var STYLE = ".lb-listing{font:1rem/1.5 system-ui,sans-serif;color:#1b1b1b}" +
    ".lb-listing .cards{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(19rem,1fr));gap:1rem}" +
    ".lb-listing .card{border:1px solid #c8c8c8;border-radius:.4rem;padding:.9rem}" +
    ".lb-listing dt{font-weight:600;color:#4a4a4a}.lb-listing dd{margin:0 0 .4rem}" +
    ".lb-listing a{color:#0b4f8a}.lb-listing a:focus-visible{outline:3px solid #b34700}" +
    ".lb-listing .skip{position:absolute;left:-999px}";
  // The host page's language: data-lang, else its <html lang>, else Finnish (never the
  // visitor's browser language: labels would not match the host page around them).
  function language(host) {
    var candidates = [host.getAttribute("data-lang"), document.documentElement.lang];
    for (var i = 0; i < candidates.length; i++) {
      var code = (candidates[i] || "").slice(0, 2).toLowerCase();
      if (LANGUAGES.indexOf(code) >= 0) { return code; }
    }
    return "fi";
  }
  function render(host) {
    var params = new URLSearchParams({ fragment: "true", lang: language(host) });
    FILTERS.forEach(function (name) {
      var value = host.getAttribute("data-" + name.replace("_", "-"));
      if (value) { params.set(name, value); }
    });
    fetch(base + "/embed/activities?" + params.toString(), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        // The fragment is rendered by the service with every upstream text escaped.
        var template = document.createElement("template");
        template.innerHTML = html;
        template.content.querySelectorAll("a[href^='?']").forEach(function (link) {
          link.setAttribute("href", base + "/embed/activities" + link.getAttribute("href"));
        });
        host.replaceChildren(template.content);
      })
      .catch(function () { host.textContent = "Lähellä.fi: " + base; });
  }
  if (!document.getElementById("lahella-bridge-style")) {
    var style = document.createElement("style");
    style.id = "lahella-bridge-style";
    style.textContent = STYLE;
    document.head.appendChild(style);
  }
  document.querySelectorAll("[data-lahella-bridge]").forEach(render);
})();
