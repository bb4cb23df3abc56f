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
        var g = { box: box, whole: box !== head, hide: false, headText: head ? head.textContent.toLowerCase() : "", shown: 0 };
        var host = groupHost(tb);
        slice(tb.rows).forEach(function (tr) {
          if (tr.classList.contains("r")) {
            rows.push({ tr: tr, text: (host + " " + tr.textContent).toLowerCase(), group: g, ok: true,
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
    var flats = [], flatBoxes = [];
    tables.forEach(function (table) {
      var box = table.parentNode.closest("[data-flat]");
      if (!box) {
        sortable(table, index);
      } else if (flatBoxes.indexOf(box) < 0) {
        flatBoxes.push(box);
        flats.push(flatSortable(box, function () {
          index();
          rows.forEach(sync);
        }));
      }
    });
    if (!controls) {
      return;
    }
    var total = sec.querySelectorAll("tr.r").length;
    var pending = false;
    // A box whose rows a change shows or hides is skipped again while out
    // of view (see layOut), rather than laid out whole in the next frame.
    var touched = false;
    function unlay(box) {
      if (box.classList && box.classList.contains("laid")) {
        box.classList.remove("laid");
      }
      touched = true;
    }
    // sync shows or hides a row as the filters last said.
    function sync(r) {
      if (r.tr.hidden === r.ok) {
        r.tr.hidden = !r.ok;
        unlay(r.tr.parentNode.parentNode.parentNode);
      }
    }
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
        r.ok = ok;
        if (ok) {
          shown++;
          r.group.shown++;
        }
      });
      groups.forEach(function (g) {
        if (g.box) {
          g.hide = active && g.shown === 0 && (want.length > 0 || g.headText.indexOf(q) < 0);
          if (g.box.hidden !== g.hide) {
            g.box.hidden = g.hide;
          }
        }
      });
      // A hidden host's box keeps its rows as they were (and laid out:
      // it is content-visibility: hidden), so that showing it again
      // unchanged costs nothing; its rows follow the filters when it
      // shows again or its rows are sorted.
      var flat = flatBoxes.some(function (b) { return b.classList.contains("sorted"); });
      rows.forEach(function (r) {
        if (flat || !r.group.whole || !r.group.hide) {
          sync(r);
        }
      });
      flats.forEach(function (f) { f.fit(); });
      if (touched) {
        touched = false;
        layOut();
      }
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

  // chunkRows is how many rows a table of the sorted view holds: each is
  // in a box of its own (content-visibility: auto), so that a sort lays
  // out the boxes in view only.
  var chunkRows = 250;

  // flatSortable sorts the tables in box (data-flat), a host's each, as
  // one list: sorting by a column puts every row in tables of their own
  // (chunkRows rows each, each with the header and a Host column, the
  // columns as wide in each: table-layout: fixed), ahead of the host
  // tables, which hide; the page's order again takes the rows back to
  // their hosts and those tables away. Rows move; none is copied. before
  // runs ahead of the first sort. It returns fit, which hides the tables
  // of the sorted view whose rows the filters all hide.
  function flatSortable(box, before) {
    var none = { fit: function () {} };
    // A host with no rows to list has no header.
    var hosts = slice(box.querySelectorAll("table.data")).filter(function (t) {
      return t.tHead;
    }).map(function (t) {
      var tb = t.tBodies[0];
      return { table: t, tbody: tb, rows: slice(tb.rows), host: groupHost(tb) };
    });
    if (hosts.length === 0) {
      return none;
    }
    hosts.forEach(function (h) {
      slice(h.table.tHead.querySelectorAll("th[data-sort]")).forEach(button);
    });
    var chunks = null; // the sorted view's boxes, each {box, table, tbody}
    var shown = false;
    var hostCells = [];
    function flatten() {
      if (!chunks) {
        var head = hosts[0].table.tHead.cloneNode(true);
        var th = document.createElement("th");
        th.scope = "col";
        th.className = "c-host";
        th.setAttribute("data-sort", "host");
        th.textContent = "Host";
        button(th);
        head.rows[0].insertBefore(th, head.rows[0].firstChild);
        hosts.forEach(function (h) {
          h.rows.forEach(function (tr) {
            if (tr.classList.contains("r")) {
              var td = document.createElement("td");
              td.textContent = h.host;
              hostCells.push([tr, td]);
            }
          });
        });
        chunks = [];
        for (var i = 0; i < hostCells.length; i += chunkRows) {
          var div = document.createElement("div");
          div.className = "ch";
          div.setAttribute("data-rows", Math.min(chunkRows, hostCells.length - i));
          var table = div.appendChild(document.createElement("table"));
          table.className = hosts[0].table.className + " flat";
          table.appendChild(chunks.length === 0 ? head : head.cloneNode(true));
          chunks.push({ box: div, table: table, tbody: table.appendChild(document.createElement("tbody")) });
        }
      }
      if (!shown) {
        shown = true;
        hostCells.forEach(function (p) { p[0].insertBefore(p[1], p[0].firstChild); });
        var f = document.createDocumentFragment();
        chunks.forEach(function (c) { f.appendChild(c.box); });
        box.insertBefore(f, box.firstChild);
        box.classList.add("sorted");
      }
    }
    function regroup() {
      if (!shown) {
        return;
      }
      shown = false;
      chunks.forEach(function (c) { c.box.remove(); });
      hostCells.forEach(function (p) { p[1].remove(); });
      hosts.forEach(function (h) {
        var f = document.createDocumentFragment();
        h.rows.forEach(function (tr) { f.appendChild(tr); });
        h.tbody.appendChild(f);
        h.table.parentNode.classList.remove("laid");
      });
      box.classList.remove("sorted");
      layOut();
    }
    // fit hides a table of the sorted view when the filters hide all its
    // rows, and shows it again when they show one.
    function fit() {
      if (!shown) {
        return;
      }
      chunks.forEach(function (c) {
        var rows = c.tbody.rows, hide = true;
        for (var i = 0; hide && i < rows.length; i++) {
          hide = rows[i].hidden;
        }
        if (c.box.hidden !== hide) {
          c.box.hidden = hide;
        }
      });
    }
    // apart does fn with box out of the document: the rows fn moves
    // leave their laid-out tables at once rather than one at a time.
    function apart(fn) {
      var mark = document.createComment("");
      box.replaceWith(mark);
      fn();
      mark.replaceWith(box);
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
      var inFlat = shown && th.closest("table").classList.contains("flat");
      var col = th.cellIndex + (inFlat ? 0 : 1); // its column in the sorted view
      var next = inFlat ? nextSort(th) : "ascending";
      if (next === "none") {
        apart(regroup);
        var first = hosts.filter(function (h) { return !h.table.parentNode.hidden; })[0];
        if (first) {
          first.table.tHead.rows[0].cells[col - 1].querySelector("button").focus();
        }
        return;
      }
      apart(function () {
        flatten();
        chunks.forEach(function (c) {
          slice(c.table.tHead.rows[0].cells).forEach(function (h, i) {
            if (i === col) {
              h.setAttribute("aria-sort", next);
            } else if (h.hasAttribute("aria-sort")) {
              h.removeAttribute("aria-sort");
            }
          });
        });
        var head = chunks[0].table.tHead.rows[0].cells[col];
        var all = sorted(hostCells.map(function (p) { return p[0]; }), col, head.getAttribute("data-sort"), next);
        chunks.forEach(function (c, ci) {
          var f = document.createDocumentFragment();
          all.slice(ci * chunkRows, (ci + 1) * chunkRows).forEach(function (tr) { f.appendChild(tr); });
          c.tbody.appendChild(f);
          c.box.classList.remove("laid");
        });
      });
      fit();
      layOut();
      var to = chunks.filter(function (c) { return !c.box.hidden; })[0] || chunks[0];
      to.table.tHead.rows[0].cells[col].querySelector("button").focus();
    });
    return { fit: fit };
  }

  // layOut lays out, for good, the boxes of hosts and of sorted rows
  // (content-visibility: auto) that are shown and not laid out (.laid
  // makes one content-visibility: visible), some at a time while the
  // browser is idle, so that opening the page, filtering and sorting lay
  // out only the boxes in view: Chromium leaves the rows of a skipped
  // box out of the accessibility tree, where a screen reader would not
  // find them, and lays out again every row a change shows in a box that
  // is laid out. A filter or a sort takes .laid off the boxes it changes
  // and calls layOut. Each step takes about 100 ms (the rows it lays out
  // follow the pace of the step before). <html> has data-laid-out while
  // no box waits.
  var idle = window.requestIdleCallback || function (f) { return setTimeout(f, 50); };
  var waiting = false, budget = 500;
  function unlaid() {
    return slice(document.querySelectorAll(".hosts > .hs:not(.laid), .hosts > .ch:not(.laid)")).filter(function (box) {
      return !box.hidden && !(box.classList.contains("hs") && box.parentNode.classList.contains("sorted"));
    });
  }
  function layOut() {
    document.documentElement.removeAttribute("data-laid-out");
    if (!waiting) {
      waiting = true;
      idle(layStep);
    }
  }
  function layStep() {
    waiting = false;
    var t0 = performance.now();
    var boxes = unlaid(), i = 0, rows = 0;
    while (i < boxes.length && rows < budget) {
      rows += 1 + (+boxes[i].getAttribute("data-rows") || 0);
      boxes[i++].classList.add("laid");
    }
    if (i > 0) {
      void boxes[i - 1].offsetHeight; // the step's layout, now rather than in the next frame
      budget = Math.max(100, Math.round(rows * 100 / Math.max(1, performance.now() - t0)));
    }
    if (i < boxes.length) {
      waiting = true;
      idle(layStep);
    } else {
      document.documentElement.setAttribute("data-laid-out", "");
    }
  }

  document.querySelectorAll("[data-hide-empty]").forEach(hideEmpty);
  document.querySelectorAll("section.filterable").forEach(filterable);
  document.querySelectorAll("table.data:not(section.filterable table)").forEach(function (t) { sortable(t); });
  document.documentElement.setAttribute("data-ready", "");
  layOut();
})();
