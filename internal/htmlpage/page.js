"use strict";
// portscan report pages: sorting and filtering of the tables that the page
// already holds. Without this script the page reads the same, unsorted and
// unfiltered. It makes no request and builds no HTML from strings.
(function () {
  // collator compares text as a reader would; made when first needed.
  var coll = null;
  function collator() {
    if (!coll) {
      coll = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
    }
    return coll;
  }

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

  function slice(list) {
    return Array.prototype.slice.call(list);
  }

  // filterable fills a section's filter controls and says how many rows
  // it shows. What the filters compare (each row's text and the values
  // of the menus) is read when a control is first used, not as the page
  // opens: a page of ten thousand rows opens without reading them.
  function filterable(sec) {
    var controls = sec.querySelector(".controls");
    var count = sec.querySelector(".count");
    var noun = sec.getAttribute("data-noun") || "rows";
    var text = controls && controls.querySelector("input[data-filter]");
    var selects = controls ? slice(controls.querySelectorAll("select[data-filter]")) : [];
    var tables = slice(sec.querySelectorAll("table.data"));
    var bodies = [];
    tables.forEach(function (table) {
      bodies = bodies.concat(slice(table.tBodies));
    });
    var rows = null;
    var groups = [];
    // index reads the rows, before sorting may move them or add a host
    // cell to them.
    function index() {
      if (rows) {
        return;
      }
      rows = [];
      bodies.forEach(function (tb) {
        var head = tb.rows.length > 0 && tb.rows[0].classList.contains("g") ? tb.rows[0] : null;
        // A group that is a table of its own (a host's) hides whole.
        var box = tb.parentNode.parentNode.classList.contains("hs") ? tb.parentNode.parentNode : head;
        var g = { box: box, headText: head ? head.textContent.toLowerCase() : "", shown: 0 };
        var host = groupHost(tb);
        slice(tb.rows).forEach(function (tr) {
          if (tr.classList.contains("r")) {
            rows.push({ tr: tr, text: (host + " " + tr.textContent).toLowerCase(), group: g,
              v: selects.map(function (sel) { return value(tr, sel); }) });
          }
        });
        groups.push(g);
      });
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
        var f = document.createDocumentFragment();
        Array.from(seen.keys()).sort(function (a, b) {
          return seen.get(b) - seen.get(a) || collator().compare(a, b);
        }).forEach(function (v) {
          var o = document.createElement("option");
          o.value = v;
          o.textContent = v + " (" + seen.get(v) + ")";
          f.appendChild(o);
        });
        sel.appendChild(f);
      });
    }
    var flats = [];
    tables.forEach(function (table) {
      var box = table.parentNode.closest("[data-flat]");
      if (!box) {
        sortable(table, index);
      } else if (flats.indexOf(box) < 0) {
        flats.push(box);
        flatSortable(box, index);
      }
    });
    if (!controls) {
      return;
    }
    var total = sec.querySelectorAll("tr.r").length;
    var pending = false;
    function apply() {
      pending = false;
      index();
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
        if (r.tr.hidden === ok) {
          r.tr.hidden = !ok;
        }
        if (ok) {
          shown++;
          r.group.shown++;
        }
      });
      groups.forEach(function (g) {
        if (g.box) {
          var hide = active && g.shown === 0 && (want.length > 0 || g.headText.indexOf(q) < 0);
          if (g.box.hidden !== hide) {
            g.box.hidden = hide;
          }
        }
      });
      say(active ? "Showing " + shown + " of " + total + " " + noun + "." : total + " " + noun + ".");
    }
    function say(s) {
      if (count) {
        count.textContent = s;
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
    // The menus are filled as a control is first reached, by keyboard or
    // pointer, before a menu opens.
    controls.addEventListener("focusin", index);
    controls.addEventListener("pointerdown", index);
    controls.hidden = false;
    say(total + " " + noun + ".");
  }

  // hideEmpty narrows to nothing the columns of a table (or of the tables
  // in an element) with data-hide-empty whose header has data-opt
  // (version, certificate) when no row has anything in them: rows leave
  // such cells out when they have nothing there, so only the header is
  // left to hide.
  function hideEmpty(el) {
    var tables = (el.tagName === "TABLE" ? [el] : slice(el.querySelectorAll("table.data"))).filter(function (t) { return t.tHead; });
    if (tables.length === 0) {
      return;
    }
    var rows = el.querySelectorAll("tbody tr.r");
    slice(tables[0].tHead.rows[0].cells).forEach(function (th) {
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
      tables.forEach(function (t) {
        t.tHead.rows[0].cells[col].classList.add("empty");
      });
    });
  }

  // button makes a sortable header's content a button, for mouse and
  // keyboard alike.
  function button(th) {
    var b = document.createElement("button");
    b.type = "button";
    while (th.firstChild) {
      b.appendChild(th.firstChild);
    }
    th.appendChild(b);
    return b;
  }

  // nextSort is the order a header's next click sorts by: ascending,
  // descending, then back to the page's order ("none").
  function nextSort(th) {
    var s = th.getAttribute("aria-sort");
    return s === "ascending" ? "descending" : s === "descending" ? "none" : "ascending";
  }

  // sortKey is what a row sorts by in a column of a kind (data-sort).
  function sortKey(tr, col, kind) {
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

  // sorted returns rows sorted by column col of a kind, each key read
  // once; rows that tie keep their order.
  function sorted(rows, col, kind, dir) {
    var sign = dir === "descending" ? -1 : 1;
    var exact = kind === "key" || kind === "port" || kind === "host";
    var keyed = rows.map(function (tr, i) { return { tr: tr, k: sortKey(tr, col, kind), i: i }; });
    keyed.sort(function (a, b) {
      var x = a.k, y = b.k;
      var d = kind === "num" ? x - y : exact ? (x < y ? -1 : x > y ? 1 : 0) : collator().compare(x, y);
      return sign * d || a.i - b.i;
    });
    return keyed.map(function (e) { return e.tr; });
  }

  // sortable makes each column whose header has data-sort a button that
  // sorts the rows of each row group of the table: ascending, descending,
  // then back to the page's order. before runs ahead of the first sort.
  function sortable(table, before) {
    var heads = slice(table.querySelectorAll("thead th[data-sort]"));
    if (heads.length === 0) {
      return;
    }
    var bodies = slice(table.tBodies);
    var original = bodies.map(function (tb) {
      return slice(tb.rows);
    });
    heads.forEach(function (th) {
      var b = button(th);
      b.addEventListener("click", function () {
        if (before) {
          before();
        }
        var next = nextSort(th);
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        if (next !== "none") {
          th.setAttribute("aria-sort", next);
        }
        bodies.forEach(function (tb, i) {
          var head = original[i].filter(function (tr) { return !tr.classList.contains("r"); });
          var list = original[i].filter(function (tr) { return tr.classList.contains("r"); });
          if (next !== "none") {
            list = sorted(list, th.cellIndex, th.getAttribute("data-sort"), next);
          }
          var f = document.createDocumentFragment();
          head.concat(list).forEach(function (tr) { f.appendChild(tr); });
          tb.appendChild(f);
        });
        b.focus();
      });
    });
  }

  // flatSortable sorts the tables in box (data-flat), a host's each, as
  // one list: sorting by a column puts every row in one table of their
  // own, which has a Host column, ahead of the host tables, which hide;
  // the page's order again takes the rows back to their hosts and that
  // table away. before runs ahead of the first sort.
  function flatSortable(box, before) {
    // A host with no rows to list has no header.
    var hosts = slice(box.querySelectorAll("table.data")).filter(function (t) {
      return t.tHead;
    }).map(function (t) {
      var tb = t.tBodies[0];
      return { table: t, tbody: tb, rows: slice(tb.rows), host: groupHost(tb) };
    });
    if (hosts.length === 0) {
      return;
    }
    hosts.forEach(function (h) {
      slice(h.table.tHead.querySelectorAll("th[data-sort]")).forEach(button);
    });
    var flat = null;
    var flatBody = null;
    var hostCells = [];
    function flatten() {
      if (!flat) {
        flat = document.createElement("table");
        flat.className = hosts[0].table.className + " flat";
        var head = hosts[0].table.tHead.cloneNode(true);
        var th = document.createElement("th");
        th.scope = "col";
        th.className = "c-host";
        th.setAttribute("data-sort", "host");
        th.textContent = "Host";
        button(th);
        head.rows[0].insertBefore(th, head.rows[0].firstChild);
        flat.appendChild(head);
        flatBody = flat.appendChild(document.createElement("tbody"));
        hosts.forEach(function (h) {
          h.rows.forEach(function (tr) {
            if (tr.classList.contains("r")) {
              var td = document.createElement("td");
              td.textContent = h.host;
              hostCells.push([tr, td]);
            }
          });
        });
      }
      if (!flat.parentNode) {
        hostCells.forEach(function (p) { p[0].insertBefore(p[1], p[0].firstChild); });
        box.insertBefore(flat, box.firstChild);
        box.classList.add("sorted");
      }
    }
    function regroup() {
      if (!flat || !flat.parentNode) {
        return;
      }
      flat.remove();
      hostCells.forEach(function (p) { p[1].remove(); });
      hosts.forEach(function (h) {
        var f = document.createDocumentFragment();
        h.rows.forEach(function (tr) { f.appendChild(tr); });
        h.tbody.appendChild(f);
      });
      box.classList.remove("sorted");
    }
    box.addEventListener("click", function (e) {
      var b = e.target.closest("th[data-sort] > button");
      if (!b || !box.contains(b)) {
        return;
      }
      if (before) {
        before();
      }
      var th = b.parentNode;
      var inFlat = flat !== null && th.closest("table") === flat;
      var col = th.cellIndex + (inFlat ? 0 : 1); // its column in the flat table
      var next = inFlat ? nextSort(th) : "ascending";
      if (next === "none") {
        th.removeAttribute("aria-sort");
        regroup();
        var shown = hosts.filter(function (h) { return !h.table.parentNode.hidden; })[0];
        if (shown) {
          shown.table.tHead.rows[0].cells[col - 1].querySelector("button").focus();
        }
        return;
      }
      flatten();
      var heads = slice(flat.tHead.rows[0].cells);
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      heads[col].setAttribute("aria-sort", next);
      var all = sorted(hostCells.map(function (p) { return p[0]; }), col, heads[col].getAttribute("data-sort"), next);
      var f = document.createDocumentFragment();
      all.forEach(function (tr) { f.appendChild(tr); });
      flatBody.appendChild(f);
      heads[col].querySelector("button").focus();
    });
  }

  // layOut lays out the hosts' boxes (content-visibility: auto) for
  // good, some at a time while the browser is idle after the page has
  // opened, so that opening it lays out only the hosts in view. Chromium
  // leaves a box it has never laid out out of the accessibility tree,
  // where a screen reader would not find its rows; laid out, every box
  // is there. Each step takes about 100 ms (the rows it lays out follow
  // the pace of the step before). <html> gets data-laid-out when the
  // last box is.
  function layOut(boxes) {
    var idle = window.requestIdleCallback || function (f) { return setTimeout(f, 50); };
    var i = 0;
    var budget = 500; // rows a step
    function step() {
      var t0 = performance.now();
      var rows = 0;
      while (i < boxes.length && rows < budget) {
        rows += 1 + (+boxes[i].getAttribute("data-rows") || 0);
        boxes[i++].classList.add("laid");
      }
      void boxes[i - 1].offsetHeight; // the step's layout, now rather than in the next frame
      budget = Math.max(100, Math.round(rows * 100 / Math.max(1, performance.now() - t0)));
      if (i < boxes.length) {
        idle(step);
      } else {
        document.documentElement.setAttribute("data-laid-out", "");
      }
    }
    if (boxes.length > 0) {
      idle(step);
    } else {
      document.documentElement.setAttribute("data-laid-out", "");
    }
  }

  document.querySelectorAll("[data-hide-empty]").forEach(hideEmpty);
  document.querySelectorAll("section.filterable").forEach(filterable);
  document.querySelectorAll("table.data:not(section.filterable table)").forEach(function (t) { sortable(t); });
  document.documentElement.setAttribute("data-ready", "");
  layOut(slice(document.querySelectorAll(".hosts > .hs")));
})();
