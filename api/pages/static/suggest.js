// Suggestions as you type in a search box with data-suggest: the JSON API's /search/suggest
// fills the box's datalist. Without JavaScript the box is a plain search form.
"use strict";
(function () {
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var endpoint = input.getAttribute("data-suggest");
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      var text = input.value.trim();
      clearTimeout(timer);
      if (text.length < 2 || text === asked) { return; }
      timer = setTimeout(function () {
        asked = text;
        fetch(endpoint + "?limit=8&q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (body) {
            if (input.value.trim() !== text) { return; }
            list.replaceChildren.apply(list, body.items.map(function (item) {
              var option = document.createElement("option");
              option.value = item.text;
              return option;
            }));
          })
          .catch(function () { /* suggestions are a convenience: the search still works */ });
      }, 150);
    });
  }
  document.querySelectorAll("input[data-suggest]").forEach(attach);
})();
