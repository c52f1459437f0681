// The query page: YASGUI against this server's /sparql, example queries, download links.
(function () {
  "use strict";
  var script = document.getElementById("query-js");
  var endpoint = new URL(script.dataset.endpoint, window.location.href).href;
  var examples = JSON.parse(document.getElementById("example-queries").textContent);
  var params = new URLSearchParams(window.location.search);

  var base = script.dataset.base, local = script.dataset.local;
  var prefixes = JSON.parse(document.getElementById("prefixes").textContent);
  // IRIs of this graph open their page here, in the same tab.
  var YasrClass = window.Yasr || (window.Yasgui && window.Yasgui.Yasr);
  if (YasrClass && YasrClass.plugins && YasrClass.plugins.table) {
    YasrClass.plugins.table.defaults.openIriInNewWindow = false;
  }

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "GET" },
    copyEndpointOnNewTab: true,
    persistenceId: null, // every visit starts from the examples, not a stale tab
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    // Only completions that need no network: the machine may be offline.
    yasqe: { autocompleters: ["prefixes", "variables"], collapsePrefixesOnLoad: true,
             value: params.get("query") || examples[0].query },
    yasr: { defaultPlugin: "table", prefixes: prefixes },
  });

  function tab() { return yasgui.getTab(); }

  function localise() {
    document.querySelectorAll(".yasr a.iri").forEach(function (a) {
      var href = a.getAttribute("href") || "";
      if (href.indexOf(base) === 0) {
        a.setAttribute("href", local + href.slice(base.length));
        a.removeAttribute("target");
      } else if (href.indexOf("http://metadata.un.org/sdg/") === 0) {
        a.setAttribute("href", "/sdg/" + href.slice("http://metadata.un.org/sdg/".length));
        a.removeAttribute("target");
      }
    });
  }

  function readable(yasr) {
    // Literals without their datatype ("6", not "6"^^xsd:integer).
    var table = yasr.plugins && yasr.plugins.table;
    if (table && !table.persistentConfig.compact) table.persistentConfig.compact = true;
  }

  function updateDownloads() {
    var q = tab().getQuery();
    document.querySelectorAll("#downloads a[data-format]").forEach(function (a) {
      a.href = endpoint + "?" + new URLSearchParams({ query: q, format: a.dataset.format });
    });
  }

  function run(index) {
    var t = tab();
    t.setQuery(examples[index].query);
    updateDownloads();
    t.query();
  }

  document.querySelectorAll("#examples button.example").forEach(function (b) {
    b.addEventListener("click", function () { run(Number(b.dataset.index)); });
  });
  yasgui.on("query", function () { updateDownloads(); });
  readable(tab().getYasr());
  tab().getYasr().on("drawn", localise);
  tab().getYasqe().on("change", updateDownloads);
  updateDownloads();

  // The vendored editor's own markup, made accessible: names for its inputs, no empty
  // tab list, its scrolling region reachable by keyboard.
  function accessible() {
    document.querySelectorAll("#yasgui input.autocomplete").forEach(function (i) {
      i.setAttribute("aria-label", "SPARQL endpoint");
    });
    document.querySelectorAll("#yasgui .CodeMirror textarea").forEach(function (t) {
      t.setAttribute("aria-label", "SPARQL query");
    });
    document.querySelectorAll("#yasgui [role=tablist]").forEach(function (l) {
      if (!l.querySelector("[role=tab]")) l.removeAttribute("role");
    });
    document.querySelectorAll("#yasgui .CodeMirror-scroll").forEach(function (s) {
      s.setAttribute("tabindex", "0");
      s.setAttribute("aria-label", "SPARQL query editor");
    });
  }
  accessible();
  yasgui.on("tabChange", accessible);
  window.dpgkgYasgui = yasgui; // for tests and the curious
})();
