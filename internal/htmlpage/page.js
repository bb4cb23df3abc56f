"use strict";
// portscan report pages: sorting and filtering of the tables that the page
// already holds. Without this script the page reads the same, unsorted and
// unfiltered. It makes no request and builds no HTML from strings.
(function () {
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // lead is the text a cell starts with: a service's name before its
  // description, a state.
  function lead(cell) {
    if (!cell) {
      return "";
    }
    var f = cell.firstChild;
    return (f && f.nodeType === 3 ? f.nodeValue : cell.textContent).trim();
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

  function filterable(sec) {
    var controls = sec.querySelector(".controls");
    var count = sec.querySelector(".count");
    var noun = sec.getAttribute("data-noun") || "rows";
    var rows = [];
    var groups = [];
    sec.querySelectorAll("table.data").forEach(function (table) {
      table.querySelectorAll("tbody").forEach(function (tb) {
        var g = { tbody: tb, head: tb.querySelector("tr.g"), rows: [] };
        g.headText = g.head ? g.head.textContent.toLowerCase() : "";
        tb.querySelectorAll("tr.r").forEach(function (tr) {
          var r = { tr: tr, text: tr.textContent.toLowerCase(), group: g };
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
    var text = controls.querySelector("input[data-filter]");
    var selects = Array.prototype.slice.call(controls.querySelectorAll("select[data-filter]"));
    selects.forEach(function (sel) {
      if (!sel.hasAttribute("data-auto")) {
        return;
      }
      var seen = new Map();
      rows.forEach(function (r) {
        var v = value(r.tr, sel);
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
      var want = selects.map(function (sel) {
        return { sel: sel, value: sel.value };
      }).filter(function (w) { return w.value !== ""; });
      var active = q !== "" || want.length > 0;
      var shown = 0;
      groups.forEach(function (g) { g.shown = 0; });
      rows.forEach(function (r) {
        var ok = q === "" || r.text.indexOf(q) >= 0;
        for (var i = 0; ok && i < want.length; i++) {
          ok = value(r.tr, want[i].sel) === want[i].value;
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

  // hideEmpty hides the columns of a table with data-hide-empty whose
  // header has data-opt (version, certificate) when no row has anything
  // in them: rows leave such cells out when they have nothing there.
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
      table.classList.add("hide-" + (col + 1));
    });
  }

  // sortable makes each column whose header has data-sort a button that
  // sorts the rows: ascending, descending, then back to the page's order. A
  // table with data-flat sorts all its rows as one list, and shows its
  // groups again when the order is the page's.
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
    heads.forEach(function (th) {
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
      });
    });
    function key(tr, col, kind) {
      var c = tr.cells[col];
      if (!c) {
        return "";
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
    function sort(th, dir) {
      var col = th.cellIndex;
      var kind = th.getAttribute("data-sort");
      var sign = dir === "descending" ? -1 : 1;
      function cmp(a, b) {
        var x = key(a, col, kind), y = key(b, col, kind);
        var d = kind === "num" ? x - y : kind === "key" || kind === "port" || kind === "host" ? (x < y ? -1 : x > y ? 1 : 0) : collator.compare(x, y);
        return sign * d;
      }
      if (dir === "none") {
        if (flatBody) {
          flatBody.hidden = true;
        }
        bodies.forEach(function (tb, i) {
          var f = document.createDocumentFragment();
          original[i].forEach(function (tr) { f.appendChild(tr); });
          tb.appendChild(f);
          tb.hidden = false;
        });
        return;
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
      if (!flatBody) {
        flatBody = document.createElement("tbody");
        flatBody.className = "flat";
        table.appendChild(flatBody);
      }
      var all = [];
      original.forEach(function (list) {
        list.forEach(function (tr) {
          if (tr.classList.contains("r")) {
            all.push(tr);
          }
        });
      });
      all.sort(cmp);
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
