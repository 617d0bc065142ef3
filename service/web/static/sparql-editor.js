// Progressive enhancement: when YASGUI loaded, it replaces the plain form, with the example
// queries as tabs. Without JavaScript (or if YASGUI fails), the form keeps working.
window.addEventListener("DOMContentLoaded", function () {
  if (typeof window.Yasgui !== "function") return;
  var config = JSON.parse(document.getElementById("meent-config").textContent);
  var host = document.getElementById("yasgui");
  host.hidden = false;
  document.getElementById("plain-form").hidden = true;
  localStorage.removeItem("yagui__config");
  var yasgui = new window.Yasgui(host, {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    persistencyExpire: 0,
    yasqe: { value: config.defaultQuery },
  });
  // The query goes in with the tab's configuration: a tab that is not shown has no editor
  // yet, so setting its query afterwards fails.
  config.examples.forEach(function (example) {
    yasgui.addTab(
      false,
      Object.assign(window.Yasgui.Tab.getDefaults(), {
        name: example.name,
        yasqe: { value: example.query },
      })
    );
  });
});
