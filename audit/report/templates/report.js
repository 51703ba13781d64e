(function () {
  "use strict";
  // Everything shown comes from the JSON islands below, set as text: nothing from the API is ever markup.
  var PAGE = 100, PRINT_LIMIT = 5000;
  function island(id) { return JSON.parse(document.getElementById(id).textContent); }
  var jobs = island("jobs-data"), evidence = island("evidence-data"), findings = island("findings-data");
  var rank = {}; island("outcome-order").forEach(function (name, i) { rank[name] = i; });
  // job rows: 0 outcome, 1 change, 2 type, 3 id, 4 status, 5 duration, 6 findings, 7 what is wrong, 8 description, 9 provider
  // finding rows: 0 job, 1 kind, 2 field, 3 expected, 4 actual, 5 message, 6 severity, 7 first seen, 8 waiver
  var byJob = {};
  findings.forEach(function (f) { (byJob[f[0]] = byJob[f[0]] || []).push(f); });

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function pill(value, className) { return el("span", value, "pill " + className); }
  function idNode(value) { return el("span", value, "id"); }
  // Each cell says its column's name: what a row shown as a card labels its lines with.
  function headers(table) { return Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.dataset.label || th.textContent.trim(); }); }
  function label(table) {
    var names = headers(table);
    table.querySelectorAll("tbody tr:not(.detail)").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) { if (!td.hasAttribute("data-label")) { td.setAttribute("data-label", names[i] || ""); } });
    });
  }
  document.querySelectorAll("table").forEach(label);
  var FAILING = { drift: true, invalid: true, not_found: true, error: true };
  function change(value) { return value ? el("span", value, "change " + value) : ""; }

  function evidenceNode(index) {
    var facts = evidence[index], job = jobs[index], dl = el("dl", null, "evidence");
    function add(label, value) { if (value === "" || value === null || value === undefined) { return; } dl.appendChild(el("dt", label)); var dd = el("dd"); if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); } dl.appendChild(dd); }
    add("job", idNode(job[3]));
    add("expected", facts[0]);
    var list = byJob[index] || [];
    if (list.length) {
      var ul = el("ul");
      list.forEach(function (f) {
        var text = "[" + f[6] + "] " + f[1] + (f[2] ? " " + f[2] : "") + ": " + f[5] + " (expected " + f[3] + ", got " + f[4] + ")";
        if (f[8]) { text += "; waived: " + f[8]; }
        if (f[7]) { text += "; first seen " + f[7]; }
        ul.appendChild(el("li", text));
      });
      add("findings", ul);
    } else { add("findings", "none"); }
    add("description", job[8]);
    add("RequestId", facts[1]);
    add("fetched", facts[2]);
    add("answer from", facts[3] === "state" ? "state (a final answer of an earlier run, not asked again)" : facts[3]);
    add("manifest", facts[4]);
    add("attempts", facts[5]);
    var answer = facts[6];
    if (answer === "") { add("answer", "not embedded in a page of this many jobs: see results.json"); }
    else if (answer === null) { add("answer", "none received"); }
    else {
      var shown = answer;
      try { shown = JSON.stringify(JSON.parse(answer), null, 2); } catch (e) { /* shown as received */ }
      add("answer as received", el("pre", shown));
    }
    return dl;
  }

  // One controller for every filterable table: text and select filters, sorting, paging, printing.
  function Table(options) {
    var body = document.querySelector("#" + options.id + " tbody");
    var text = document.getElementById(options.text);
    var state = { page: 0, key: null, ascending: true, view: options.rows, open: {} };
    var lowered = new Array(options.rows.length).fill(null); // each row's text, lowered when first searched
    function textOf(i) { if (lowered[i] === null) { lowered[i] = options.search(options.rows[i]).join("\u0001").toLowerCase(); } return lowered[i]; }
    function refilter() {
      var needle = text.value.trim().toLowerCase(), active = [];
      options.filters.forEach(function (f) { var node = document.getElementById(f.id); if (node.value) { active.push([f.value, node.value]); } });
      var view = [];
      for (var i = 0; i < options.rows.length; i++) {
        var row = options.rows[i], keep = true;
        for (var j = 0; j < active.length && keep; j++) { keep = String(active[j][0](row)) === active[j][1]; }
        if (keep && needle) { keep = textOf(i).indexOf(needle) !== -1; }
        if (keep) { view.push(row); }
      }
      if (state.key) {
        var value = options.sort[state.key], sign = state.ascending ? 1 : -1;
        view.sort(function (a, b) { var x = value(a), y = value(b); return x < y ? -sign : x > y ? sign : 0; });
      }
      state.view = view;
      state.page = 0;
      draw();
    }
    function draw(limit) {
      var printing = Boolean(limit), start = limit ? 0 : state.page * PAGE, fragment = document.createDocumentFragment();
      state.view.slice(start, start + (limit || PAGE)).forEach(function (row) {
        var tr = document.createElement("tr");
        options.cells(row).forEach(function (cell) {
          var td = el("td", null, cell[1] || "");
          if (cell[0] instanceof Node) { td.appendChild(cell[0]); } else { td.textContent = cell[0] === null ? "" : String(cell[0]); }
          tr.appendChild(td);
        });
        fragment.appendChild(tr);
        if (options.expand) {
          var key = options.expand.key(row), button = document.createElement("button");
          button.type = "button"; button.className = "expand"; button.setAttribute("aria-expanded", state.open[key] ? "true" : "false");
          button.setAttribute("aria-label", "evidence"); button.textContent = state.open[key] ? "▾" : "▸";
          button.addEventListener("click", function () { if (state.open[key]) { delete state.open[key]; } else { state.open[key] = true; } draw(); });
          tr.firstChild.appendChild(button);
          // In print, every failing job's evidence is there, opened or not.
          if (state.open[key] || (printing && options.expand.failing(row))) {
            var detail = el("tr", null, "detail"), td = el("td");
            td.colSpan = tr.children.length; td.appendChild(options.expand.node(row)); detail.appendChild(td); fragment.appendChild(detail);
          }
        }
      });
      body.replaceChildren(fragment);
      label(body.parentNode);
      var pages = Math.max(1, Math.ceil(state.view.length / PAGE));
      document.getElementById(options.id + "-shown").textContent = state.view.length + " of " + options.rows.length + " " + options.noun + " shown";
      document.getElementById(options.id + "-page").textContent = "page " + (state.page + 1) + " of " + pages;
      document.getElementById(options.id + "-prev").disabled = state.page === 0;
      document.getElementById(options.id + "-next").disabled = state.page >= pages - 1;
      var printed = document.getElementById(options.id + "-printed");
      if (printed) { printed.textContent = state.view.length > PRINT_LIMIT ? "Printed: the first " + PRINT_LIMIT + " of " + state.view.length + " " + options.noun + "; every one is in results.json." : ""; }
    }
    text.addEventListener("input", refilter);
    options.filters.forEach(function (f) { document.getElementById(f.id).addEventListener("change", refilter); });
    document.getElementById(options.id + "-prev").addEventListener("click", function () { state.page--; draw(); });
    document.getElementById(options.id + "-next").addEventListener("click", function () { state.page++; draw(); });
    document.querySelectorAll("#" + options.id + " th.sortable").forEach(function (th) {
      th.addEventListener("click", function () {
        state.ascending = state.key === th.dataset.key ? !state.ascending : true;
        state.key = th.dataset.key;
        refilter();
      });
    });
    // The print media query as well as the print events: a PDF made without a print dialog (a
    // headless browser's) switches media without firing beforeprint.
    function forPrint(on) { if (on) { draw(Math.min(state.view.length, PRINT_LIMIT) || PAGE); } else { draw(); } }
    window.addEventListener("beforeprint", function () { forPrint(true); });
    window.addEventListener("afterprint", function () { forPrint(false); });
    window.matchMedia("print").addEventListener("change", function (event) { forPrint(event.matches); });
    refilter();
  }

  var job = function (f) { return jobs[f[0]]; };
  Table({
    id: "jobs", text: "jobs-text", rows: jobs.map(function (row, i) { return i; }), noun: "jobs",
    search: function (i) { var r = jobs[i]; return [r[0], r[1], r[2], r[3], r[4], r[7], r[8], r[9], evidence[i][1]]; },
    filters: [
      { id: "jobs-outcome", value: function (i) { return jobs[i][0]; } },
      { id: "jobs-type", value: function (i) { return jobs[i][2]; } },
      { id: "jobs-change", value: function (i) { return jobs[i][1]; } },
      { id: "jobs-provider", value: function (i) { return jobs[i][9]; } }
    ],
    sort: {
      outcome: function (i) { return rank[jobs[i][0]]; }, change: function (i) { return jobs[i][1]; },
      type: function (i) { return jobs[i][2]; }, job: function (i) { return jobs[i][3]; },
      status: function (i) { return jobs[i][4]; }, findings: function (i) { return jobs[i][6]; }
    },
    cells: function (i) {
      var r = jobs[i];
      return [["", "expand"], [pill(r[0], "o-" + r[0]), "nowrap"], [change(r[1]), "nowrap"], [r[2], "nowrap"], [idNode(r[3])], [r[4], "nowrap"],
        [r[5], "num"], [r[6], "num"], [r[7], "text"], [r[8], "text"], [r[9], "nowrap"]];
    },
    expand: { key: function (i) { return i; }, node: evidenceNode, failing: function (i) { return FAILING[jobs[i][0]] === true; } }
  });
  Table({
    id: "findings", text: "findings-text", rows: findings, noun: "rows",
    search: function (f) { var r = job(f); return [r[0], r[1], r[2], r[3], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], r[9]]; },
    filters: [
      { id: "findings-outcome", value: function (f) { return job(f)[0]; } },
      { id: "findings-type", value: function (f) { return job(f)[2]; } },
      { id: "findings-kind", value: function (f) { return f[1]; } },
      { id: "findings-severity", value: function (f) { return f[6]; } },
      { id: "findings-change", value: function (f) { return job(f)[1]; } },
      { id: "findings-provider", value: function (f) { return job(f)[9]; } }
    ],
    sort: {
      outcome: function (f) { return rank[job(f)[0]]; }, change: function (f) { return job(f)[1]; },
      type: function (f) { return job(f)[2]; }, job: function (f) { return job(f)[3]; },
      kind: function (f) { return f[1]; }, field: function (f) { return f[2]; },
      severity: function (f) { return f[6]; }, first_seen: function (f) { return f[7]; }
    },
    cells: function (f) {
      var r = job(f), severity = f[6] === "error" ? f[6] : pill(f[6], "warning");
      var message = f[8] ? f[5] + " (waived: " + f[8] + ")" : f[5];
      return [[pill(r[0], "o-" + r[0]), "nowrap"], [change(r[1]), "nowrap"], [r[2], "nowrap"], [idNode(r[3])], [f[1], "nowrap"], [f[2], "nowrap"],
        [f[3], "text"], [f[4], "text"], [message, "text"], [severity, "nowrap"], [f[7].slice(0, 10), "nowrap"], [r[9], "nowrap"]];
    }
  });
})();
