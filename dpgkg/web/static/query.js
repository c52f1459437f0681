// The query page: YASGUI against this server's /sparql, example queries, download links.
(function () {
  "use strict";
  var script = document.getElementById("query-js");
  var endpoint = new URL(script.dataset.endpoint, window.location.href).href;
  var examples = JSON.parse(document.getElementById("example-queries").textContent);
  var params = new URLSearchParams(window.location.search);

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "GET" },
    copyEndpointOnNewTab: true,
    persistenceId: null, // every visit starts from the examples, not a stale tab
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    // Only completions that need no network: the machine may be offline.
    yasqe: { autocompleters: ["prefixes", "variables"], value: params.get("query") || examples[0].query },
    yasr: { defaultPlugin: "table", prefixes: {} },
  });

  function tab() { return yasgui.getTab(); }

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
  tab().getYasqe().on("change", updateDownloads);
  updateDownloads();
  window.dpgkgYasgui = yasgui; // for tests and the curious
})();
