"use strict";
// portscan report pages: sorting and filtering of the tables that the page
// already holds. Without this script the page reads the same, unsorted and
// unfiltered. It makes no request and builds no HTML from strings.
(function () {
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // lead is the text a cell starts with: a service's name before its
  // description (on a line of its own, or in an element), a state.
  function lead(cell) {
    if (!cell) {
      return "";
    }
    var f = cell.firstChild;
    return (f && f.nodeType === 3 ? f.nodeValue : cell.textContent).split("\n")[0].trim();
  }

  // value is what a filter menu compares in a row: the lead of the
  // column data-col names, or the row's data- attribute of its key.
  function value(tr, sel) {
    var col = sel.getAttribute("data-col");
    return col ? lead(tr.cells[col - 1]) : tr.getAttribute("data-" + sel.getAttribute("data-filter"));
  }

  // hostKey sorts addresses in address order, IPv4 first: "name (addr)"
  // or "addr", IPv6 written as Go writes it ("::1", "::ffff:1.2.3.4").
  function hostKey(s) {
    var m = /\(([^()]*)\)$/.exec(s);
    if (m) {
      s = m[1];
    }
    s = s.split("%")[0];
    var hex = function (n, w) { return ("0000" + n.toString(16)).slice(-w); };
    if (s.indexOf(":") < 0) {
      return "4" + s.split(".").map(function (x) { return hex(+x || 0, 2); }).join("");
    }
    var halves = s.split("::");
    var groups = function (t) {
      var out = [];
      (t ? t.split(":") : []).forEach(function (g) {
        if (g.indexOf(".") >= 0) {
          var b = g.split(".").map(Number);
          out.push(hex(b[0] * 256 + b[1], 4), hex(b[2] * 256 + b[3], 4));
        } else {
          out.push(hex(parseInt(g, 16) || 0, 4));
        }
      });
      return out;
    };
    var head = groups(halves[0]), tail = halves.length > 1 ? groups(halves[1]) : [];
    while (head.length + tail.length < 8) {
      head.push("0000");
    }
    return "6" + head.concat(tail).join("");
  }

  // groupHost is the host a row group's header names (its .h), or "".
  function groupHost(tb) {
    var h = tb.querySelector("tr.g .h");
    return h ? h.textContent : "";
  }

  function filterable(sec) {
    var controls = sec.querySelector(".controls");
    var count = sec.querySelector(".count");
    var noun = sec.getAttribute("data-noun") || "rows";
    var text = controls && controls.querySelector("input[data-filter]");
    var selects = controls ? Array.prototype.slice.call(controls.querySelectorAll("select[data-filter]")) : [];
    var rows = [];
    var groups = [];
    sec.querySelectorAll("table.data").forEach(function (table) {
      table.querySelectorAll("tbody").forEach(function (tb) {
        var g = { tbody: tb, head: tb.querySelector("tr.g"), rows: [] };
        g.headText = g.head ? g.head.textContent.toLowerCase() : "";
        var host = groupHost(tb);
        tb.querySelectorAll("tr.r").forEach(function (tr) {
          // What the menus compare is read now, before sorting may add
          // a host cell to the row.
          var r = { tr: tr, text: (host + " " + tr.textContent).toLowerCase(), group: g,
            v: selects.map(function (sel) { return value(tr, sel); }) };
          g.rows.push(r);
          rows.push(r);
        });
        groups.push(g);
      });
      sortable(table);
    });
    if (!controls) {
      return;
    }
    selects.forEach(function (sel, si) {
      if (!sel.hasAttribute("data-auto")) {
        return;
      }
      var seen = new Map();
      rows.forEach(function (r) {
        var v = r.v[si];
        if (v) {
          seen.set(v, (seen.get(v) || 0) + 1);
        }
      });
      Array.from(seen.keys()).sort(function (a, b) {
        return seen.get(b) - seen.get(a) || collator.compare(a, b);
      }).forEach(function (v) {
        var o = document.createElement("option");
        o.value = v;
        o.textContent = v + " (" + seen.get(v) + ")";
        sel.appendChild(o);
      });
    });
    var pending = false;
    function apply() {
      pending = false;
      var q = text ? text.value.trim().toLowerCase() : "";
      var want = selects.map(function (sel, si) {
        return { i: si, value: sel.value };
      }).filter(function (w) { return w.value !== ""; });
      var active = q !== "" || want.length > 0;
      var shown = 0;
      groups.forEach(function (g) { g.shown = 0; });
      rows.forEach(function (r) {
        var ok = q === "" || r.text.indexOf(q) >= 0;
        for (var i = 0; ok && i < want.length; i++) {
          ok = r.v[want[i].i] === want[i].value;
        }
        r.tr.hidden = !ok;
        if (ok) {
          shown++;
          r.group.shown++;
        }
      });
      groups.forEach(function (g) {
        if (g.head) {
          g.head.hidden = active && g.shown === 0 && (want.length > 0 || g.headText.indexOf(q) < 0);
        }
      });
      if (count) {
        count.textContent = active ? "Showing " + shown + " of " + rows.length + " " + noun + "." : rows.length + " " + noun + ".";
      }
    }
    function later() {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(apply);
      }
    }
    if (text) {
      text.addEventListener("input", later);
    }
    selects.forEach(function (sel) { sel.addEventListener("change", later); });
    controls.hidden = false;
    apply();
  }

  // hideEmpty narrows to nothing the columns of a table with
  // data-hide-empty whose header has data-opt (version, certificate)
  // when no row has anything in them: rows leave such cells out when they
  // have nothing there, so only the header is left to hide.
  function hideEmpty(table) {
    if (!table.tHead) {
      return;
    }
    var rows = table.querySelectorAll("tbody tr.r");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (!th.hasAttribute("data-opt")) {
        return;
      }
      var col = th.cellIndex;
      for (var i = 0; i < rows.length; i++) {
        var c = rows[i].cells[col];
        if (c && c.textContent !== "") {
          return;
        }
      }
      th.classList.add("empty");
    });
  }

  // sortable makes each column whose header has data-sort a button that
  // sorts the rows: ascending, descending, then back to the page's order.
  // A table with data-flat sorts all its rows as one list: its row groups
  // (one a host) give way to a Host column, which the script adds to the
  // header and to each row, and which goes again with the page's order.
  function sortable(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
    if (heads.length === 0) {
      return;
    }
    var bodies = Array.prototype.slice.call(table.tBodies);
    var original = bodies.map(function (tb) {
      return Array.prototype.slice.call(tb.rows);
    });
    var flat = table.hasAttribute("data-flat");
    var flatBody = null;
    var hostHead = null;
    var hostCells = [];
    function button(th) {
      var b = document.createElement("button");
      b.type = "button";
      while (th.firstChild) {
        b.appendChild(th.firstChild);
      }
      th.appendChild(b);
      b.addEventListener("click", function () {
        var next = th.getAttribute("aria-sort") === "ascending" ? "descending" :
          th.getAttribute("aria-sort") === "descending" ? "none" : "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        if (next !== "none") {
          th.setAttribute("aria-sort", next);
        }
        sort(th, next);
        b.focus();
      });
    }
    heads.forEach(button);
    function key(tr, col, kind) {
      var c = tr.cells[col];
      if (!c) {
        return kind === "num" ? 0 : "";
      }
      var k = c.hasAttribute("data-k") ? c.getAttribute("data-k") : c.textContent.trim();
      if (kind === "host") {
        return hostKey(k);
      }
      if (kind === "port") {
        // "22/tcp": by number, then protocol.
        var slash = k.indexOf("/");
        return ("0000" + k.slice(0, slash)).slice(-5) + k.slice(slash);
      }
      return kind === "num" ? (parseFloat(k) || 0) : k;
    }
    // flatten puts every row in one body, each with a host cell.
    function flatten() {
      if (!flatBody) {
        flatBody = document.createElement("tbody");
        flatBody.className = "flat";
        table.appendChild(flatBody);
        hostHead = document.createElement("th");
        hostHead.scope = "col";
        hostHead.className = "c-host";
        hostHead.setAttribute("data-sort", "host");
        hostHead.textContent = "Host";
        button(hostHead);
        heads.push(hostHead);
        bodies.forEach(function (tb, i) {
          var host = groupHost(tb);
          original[i].forEach(function (tr) {
            if (tr.classList.contains("r")) {
              var td = document.createElement("td");
              td.textContent = host;
              hostCells.push([tr, td]);
            }
          });
        });
      }
      if (!hostHead.parentNode) {
        var row = table.tHead.rows[0];
        row.insertBefore(hostHead, row.firstChild);
        hostCells.forEach(function (p) { p[0].insertBefore(p[1], p[0].firstChild); });
      }
    }
    function regroup() {
      if (hostHead && hostHead.parentNode) {
        hostHead.remove();
        hostCells.forEach(function (p) { p[1].remove(); });
      }
      if (flatBody) {
        flatBody.hidden = true;
      }
      bodies.forEach(function (tb, i) {
        var f = document.createDocumentFragment();
        original[i].forEach(function (tr) { f.appendChild(tr); });
        tb.appendChild(f);
        tb.hidden = false;
      });
    }
    function sort(th, dir) {
      if (dir === "none") {
        regroup();
        return;
      }
      if (flat) {
        flatten();
      }
      var col = th.cellIndex;
      var kind = th.getAttribute("data-sort");
      var sign = dir === "descending" ? -1 : 1;
      function cmp(a, b) {
        var x = key(a, col, kind), y = key(b, col, kind);
        var d = kind === "num" ? x - y : kind === "key" || kind === "port" || kind === "host" ? (x < y ? -1 : x > y ? 1 : 0) : collator.compare(x, y);
        return sign * d;
      }
      if (!flat) {
        bodies.forEach(function (tb, i) {
          var head = original[i].filter(function (tr) { return tr.classList.contains("g"); });
          var list = original[i].filter(function (tr) { return tr.classList.contains("r"); }).sort(cmp);
          var f = document.createDocumentFragment();
          head.concat(list).forEach(function (tr) { f.appendChild(tr); });
          tb.appendChild(f);
        });
        return;
      }
      var all = hostCells.map(function (p) { return p[0]; }).sort(cmp);
      var f = document.createDocumentFragment();
      all.forEach(function (tr) { f.appendChild(tr); });
      flatBody.appendChild(f);
      flatBody.hidden = false;
      bodies.forEach(function (tb) { tb.hidden = true; });
    }
  }

  document.querySelectorAll("table[data-hide-empty]").forEach(hideEmpty);
  document.querySelectorAll("section.filterable").forEach(filterable);
  document.querySelectorAll("table.data:not(section.filterable table)").forEach(sortable);
  document.documentElement.setAttribute("data-ready", "");
})();
