(function () {
  "use strict";
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function key(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value")
                                              : cell.textContent.trim();
    if (numeric) { return raw === "" ? NaN : Number(raw); }
    return raw;
  }

  function sortTable(table, th, direction) {
    var numeric = th.getAttribute("data-type") === "num";
    var index = th.cellIndex;
    var sign = direction === "descending" ? -1 : 1;
    var body = table.tBodies[0];
    var items = Array.prototype.map.call(body.rows, function (row, i) {
      var v = key(row, index, numeric);
      return {row: row, i: i, v: v, missing: numeric ? isNaN(v) : v === ""};
    });
    items.sort(function (a, b) {
      if (a.missing || b.missing) {  /* missing values last in either direction */
        return a.missing === b.missing ? a.i - b.i : (a.missing ? 1 : -1);
      }
      var c = numeric ? (a.v < b.v ? -1 : (a.v > b.v ? 1 : 0)) : collator.compare(a.v, b.v);
      return c !== 0 ? sign * c : a.i - b.i;
    });
    items.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute("aria-sort", cell === th ? direction : "none");
    });
  }

  function findTable(id) {
    var el = document.getElementById(id);
    if (el === null) { return null; }
    return el.matches("table.sortable") ? el : el.querySelector("table.sortable");
  }

  function findHeader(table, column) {
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].getAttribute("data-key") === column) { return cells[i]; }
    }
    return null;
  }

  /* #sort=<table or section id>:<column key>:<asc|desc> */
  function sortFromHash() {
    var match = /^#sort=(.+)$/.exec(window.location.hash);
    if (match === null) { return; }
    var parts = match[1].split(":");
    if (parts.length < 3) { return; }
    var direction = {asc: "ascending", ascending: "ascending",
                     desc: "descending", descending: "descending"}[parts.pop().toLowerCase()];
    var table = findTable(decodeURIComponent(parts.shift()));
    var th = table && findHeader(table, decodeURIComponent(parts.join(":")));
    if (direction && th) { sortTable(table, th, direction); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var button = th.querySelector("button");
      if (button === null) { return; }
      button.addEventListener("click", function () {
        var next = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        sortTable(table, th, next);
      });
    });
  });
  window.addEventListener("hashchange", sortFromHash);
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });
  sortFromHash();
  document.body.dataset.ready = "1";
})();
