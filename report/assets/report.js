// charter report: draws the bar charts (inline SVG) from the embedded
// findings and makes the findings table sortable. No network, no library.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var findings = JSON.parse(document.getElementById("charter-data").textContent);
  var sevRank = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

  function el(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function count(key) {
    var m = {};
    findings.forEach(function (f) {
      var k = f[key] || "(cluster)";
      m[k] = (m[k] || 0) + 1;
    });
    var rows = Object.keys(m).map(function (k) { return [k, m[k]]; });
    rows.sort(function (a, b) {
      if (key === "severity") return (sevRank[a[0]] ?? 9) - (sevRank[b[0]] ?? 9);
      return b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
    });
    return rows;
  }

  // drawChart fills <svg class="chart" data-key=...> with one bar per value.
  function drawChart(svg) {
    var rows = count(svg.getAttribute("data-key"));
    var width = 420, barH = 18, gap = 6, label = 150;
    var max = rows.reduce(function (m, r) { return Math.max(m, r[1]); }, 0);
    svg.setAttribute("viewBox", "0 0 " + width + " " + Math.max(1, rows.length * (barH + gap)));
    svg.setAttribute("height", Math.max(1, rows.length * (barH + gap)));
    rows.forEach(function (r, i) {
      var y = i * (barH + gap);
      var w = max ? Math.max(2, Math.round((width - label - 40) * r[1] / max)) : 0;
      var g = el("g", { "class": "bar-row", "data-label": r[0], "data-count": r[1] });
      g.appendChild(el("text", { x: label - 6, y: y + barH - 4, "text-anchor": "end", "class": "bar-label" }, r[0]));
      g.appendChild(el("rect", { "class": "bar sev-" + r[0], x: label, y: y, width: w, height: barH, rx: 3 }));
      g.appendChild(el("text", { x: label + w + 6, y: y + barH - 4, "class": "bar-count" }, String(r[1])));
      svg.appendChild(g);
    });
    svg.setAttribute("data-drawn", String(rows.length));
  }

  // sortBy orders the table body by a column; numbers and severities
  // compare as such, the rest as text.
  function sortBy(table, col, desc) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var type = table.tHead.rows[0].cells[col].getAttribute("data-type");
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
      var c;
      if (type === "number") c = Number(x) - Number(y);
      else if (type === "severity") c = (sevRank[x] ?? 9) - (sevRank[y] ?? 9);
      else c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("aria-sort", i === col ? (desc ? "descending" : "ascending") : "none");
    });
    table.setAttribute("data-sorted", col + (desc ? ":desc" : ":asc"));
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), drawChart);
    var table = document.getElementById("findings");
    if (!table) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () {
        sortBy(table, i, th.getAttribute("aria-sort") === "ascending");
      });
    });
    // #sort=COLUMN or #sort=COLUMN:desc sorts on load (links, tests).
    var m = /sort=([a-z]+)(:desc)?/.exec(location.hash);
    if (m) {
      var th = table.querySelector("th[data-col=" + m[1] + "]");
      if (th) sortBy(table, th.cellIndex, !!m[2]);
    }
    document.body.setAttribute("data-ready", "true");
  }
  init();
})();
