package output

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdpperf "github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/portscan/portscan/internal/browser"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// browserScenario is a LAN-like run: five hosts with the lab's ports,
// one detected service with a hostile banner, a host down.
func browserScenario() scenario {
	sc := scenario{name: "browser", opt: Options{Reason: true}, info: result.Info{Args: []string{"portscan", "198.18.0.0/29"}, Start: t0, ScanType: "connect", Version: "0.1.0", Lang: "en"}}
	hosts := []struct {
		a  string
		ps []uint16
	}{{"198.18.0.1", []uint16{22, 80, 443}}, {"198.18.0.2", []uint16{22}}, {"198.18.0.3", []uint16{80, 8080}}, {"198.18.0.4", []uint16{22, 3306}}, {"198.18.0.5", []uint16{25, 110, 143}}}
	names := map[uint16]*services.Entry{22: ssh, 80: http, 443: https, 3306: mysql, 25: smtp, 8080: custom,
		110: entry(110, ports.TCP, "pop3", "", "Post Office Protocol 3"), 143: entry(143, ports.TCP, "imap", "", "Internet Message Access Protocol")}
	for i, h := range hosts {
		a := netip.MustParseAddr(h.a)
		for _, p := range h.ps {
			ev := res(a, "", p, ports.TCP, result.Open, result.ReasonSynAck, 90, 10+i, names[p])
			if h.a == "198.18.0.1" && p == 80 {
				ev.port.Detected = &result.Service{Name: "http", Product: "<img src=x onerror=alert(1)>", Method: result.MethodProbe, Confidence: 10,
					Banner: `"><script>alert(2)</script>`}
			}
			sc.events = append(sc.events, ev)
		}
		sc.events = append(sc.events, hostEv(result.Host{Addr: a, Up: true, Reason: result.ReasonSynAck, Seq: uint64(i + 1),
			Counts: map[result.State]int{result.Open: len(h.ps), result.Closed: 311 - len(h.ps)}}))
	}
	sc.events = append(sc.events, hostEv(result.Host{Addr: netip.MustParseAddr("198.18.0.6"), Reason: result.ReasonNoResponse, Probes: 4, Seq: 6}))
	sc.stats = result.Summary{Start: t0, End: at(1510), HostsUp: 5, HostsDown: 1, Open: 11, Probes: 2864}
	return sc
}

func writePage(t testing.TB, dir string, page []byte) string {
	t.Helper()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// visible counts the port rows the filters leave shown.
const visible = `[...document.querySelectorAll("tr.r")].filter(r => r.checkVisibility()).length`

// TestHTMLInBrowser opens a page from file:// in headless Chromium and
// uses it as a person would: counts, filtering by text and state, sorting
// with the mouse and the keyboard, and a screenshot. The page must make
// no request but its own, and no hostile string may run.
func TestHTMLInBrowser(t *testing.T) {
	b := browser.Open(t, 1280, 1000)
	dir := t.TempDir()
	path := writePage(t, dir, render(t, "html", browserScenario()))
	url := b.Load(t, path, 30*time.Second)
	if n := browser.Eval[int](t, b, `document.querySelectorAll("tr.r").length`); n != 11 {
		t.Errorf("%d port rows, want 11", n)
	}
	if n := browser.Eval[int](t, b, visible); n != 11 {
		t.Errorf("%d rows shown before filtering, want 11", n)
	}
	if s := browser.Eval[string](t, b, `document.querySelector("#ports .count").textContent`); s != "11 ports." {
		t.Errorf("count %q", s)
	}
	// Each host is a table of its own, with the columns' header, in a box
	// that the browser skips (content-visibility: auto) until the script
	// lays it out, once the page has opened.
	if got := browser.Eval[[]string](t, b, `[...document.querySelectorAll("#ports-table table")].map(t => t.querySelectorAll("thead th[scope=col]").length + " " + t.querySelectorAll("tr.g").length)`); !slices.Equal(got, slices.Repeat([]string{"6 1"}, 5)) {
		t.Errorf("host tables (header cells, host rows): %q, want 5 of 6 1", got)
	}
	for _, sel := range []string{".hosts > .hs", ".hosts > .ch"} {
		if !browser.Eval[bool](t, b, `[...document.styleSheets[0].cssRules].some(r => r.selectorText && r.selectorText.split(", ").includes(`+strconv.Quote(sel)+`) && r.style.contentVisibility === "auto")`) {
			t.Errorf("the boxes %s (hosts, sorted rows) are not content-visibility: auto", sel)
		}
	}
	cards := browser.Eval[[]string](t, b, `[...document.querySelectorAll("#summary .cards li")].map(li => li.textContent)`)
	for _, want := range []string{"6 hosts", "5 up", "1 down", "11 open ports"} {
		if !slices.Contains(cards, want) {
			t.Errorf("summary cards %q lack %q", cards, want)
		}
	}
	// The summary is written last and shown first.
	if y := browser.Eval[[]float64](t, b, `["summary", "ports"].map(id => document.getElementById(id).getBoundingClientRect().top)`); y[0] >= y[1] {
		t.Errorf("summary at %v, table at %v: the summary should be above", y[0], y[1])
	}

	// Typing into the filter shrinks the table; a host's address finds
	// its rows, which do not repeat it.
	if err := chromedp.Do(b.Ctx, chromedp.SendKeys(chromedp.CSS(`input[data-filter="text"]`), "198.18.0.5")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](visible+" === 3")); err != nil {
		t.Errorf("after typing 198.18.0.5, %d rows shown, want 3", browser.Eval[int](t, b, visible))
	}
	browser.Eval[bool](t, b, `(() => { const i = document.querySelector('input[data-filter="text"]'); i.value = ""; i.dispatchEvent(new Event("input")); return true })()`)
	if err := chromedp.Do(b.Ctx, chromedp.SendKeys(chromedp.CSS(`input[data-filter="text"]`), "ssh")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](visible+" === 3")); err != nil {
		t.Errorf("after typing ssh, %d rows shown, want 3", browser.Eval[int](t, b, visible))
	}
	if s := browser.Eval[string](t, b, `document.querySelector("#ports .count").textContent`); s != "Showing 3 of 11 ports." {
		t.Errorf("count %q", s)
	}
	groups := browser.Eval[int](t, b, `[...document.querySelectorAll("tr.g")].filter(r => r.checkVisibility()).length`)
	if groups != 3 {
		t.Errorf("%d host groups shown, want the 3 with ssh", groups)
	}
	// The service filter offers the services, most frequent first.
	opts := browser.Eval[[]string](t, b, `[...document.querySelectorAll('select[data-filter="svc"] option')].map(o => o.value)`)
	if len(opts) < 3 || opts[1] != "ssh" {
		t.Errorf("service options %q, want ssh first", opts)
	}
	// Clearing the text and choosing a service.
	browser.Eval[bool](t, b, `(() => { const i = document.querySelector('input[data-filter="text"]'); i.value = ""; i.dispatchEvent(new Event("input"));
		const s = document.querySelector('select[data-filter="svc"]'); s.value = "http"; s.dispatchEvent(new Event("change")); return true })()`)
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](visible+" === 2")); err != nil {
		t.Errorf("service http: %d rows shown, want 2", browser.Eval[int](t, b, visible))
	}
	browser.Eval[bool](t, b, `(() => { const s = document.querySelector('select[data-filter="svc"]'); s.value = ""; s.dispatchEvent(new Event("change")); return true })()`)
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](visible+" === 11")); err != nil {
		t.Errorf("no service: %d rows shown, want 11", browser.Eval[int](t, b, visible))
	}

	// Sorting by port with a click, then descending with the keyboard.
	firstPorts := func() []string {
		return browser.Eval[[]string](t, b, `[...document.querySelectorAll("tr.r")].filter(r => r.checkVisibility()).slice(0, 3).map(r => r.cells[0].textContent + " " + r.cells[1].textContent)`)
	}
	headers := func() []string {
		return browser.Eval[[]string](t, b, `[...document.querySelectorAll("#ports-table thead th")].map(th => th.textContent)`)
	}
	if h := headers(); h[0] != "Port" {
		t.Errorf("headers before sorting %q: the hosts are the row groups", h)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`#ports-table thead th.c-port button`))); err != nil {
		t.Fatal(err)
	}
	if got := firstPorts(); !slices.Equal(got, []string{"198.18.0.1 22/tcp", "198.18.0.2 22/tcp", "198.18.0.4 22/tcp"}) {
		t.Errorf("sorted by port, the first rows are %q", got)
	}
	if h := headers(); h[0] != "Host" || h[1] != "Port" {
		t.Errorf("headers sorted %q: the hosts should have a column", h)
	}
	if n := browser.Eval[[]int](t, b, `[[...document.querySelectorAll("#ports-table table")].filter(t => t.checkVisibility()).length, document.querySelectorAll("#ports-table table.flat tr.r").length]`); !slices.Equal(n, []int{1, 11}) {
		t.Errorf("sorted: %d tables shown, %d rows in the sorted one, want 1 and 11", n[0], n[1])
	}
	if err := chromedp.Do(b.Ctx, chromedp.Focus(chromedp.CSS(`#ports-table thead th.c-port button`)), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if got := firstPorts(); !slices.Equal(got, []string{"198.18.0.3 8080/tcp", "198.18.0.4 3306/tcp", "198.18.0.1 443/tcp"}) {
		t.Errorf("sorted by port descending, the first rows are %q", got)
	}
	if s := browser.Eval[string](t, b, `document.querySelector("#ports-table thead th.c-port").getAttribute("aria-sort")`); s != "descending" {
		t.Errorf("aria-sort %q", s)
	}
	// By host, descending, then the page's order again.
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`#ports-table thead th.c-host button`)), chromedp.Click(chromedp.CSS(`#ports-table thead th.c-host button`))); err != nil {
		t.Fatal(err)
	}
	if got := firstPorts(); !strings.HasPrefix(got[0], "198.18.0.5 ") {
		t.Errorf("sorted by host descending, the first rows are %q", got)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(`#ports-table thead th.c-host button`))); err != nil {
		t.Fatal(err)
	}
	if h := headers(); h[0] != "Port" {
		t.Errorf("headers back in the page's order %q", h)
	}
	if n := browser.Eval[int](t, b, `[...document.querySelectorAll("tr.g")].filter(r => r.checkVisibility()).length`); n != 5 {
		t.Errorf("%d host groups back, want 5", n)
	}

	// The hostile strings are text.
	if got := browser.Eval[string](t, b, `document.querySelector('tr.r td[title^="probe"]').title`); !strings.Contains(got, `banner: "><script>alert(2)</script>`) {
		t.Errorf("banner tooltip %q", got)
	}
	// Dark where the reader prefers it, and printable: no controls.
	media := func(p emulation.SetEmulatedMediaParams) {
		t.Helper()
		if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, p); err != nil {
			t.Fatal(err)
		}
	}
	background := `getComputedStyle(document.documentElement).backgroundColor`
	if c := browser.Eval[string](t, b, background); c != "rgb(255, 255, 255)" {
		t.Errorf("light background %s", c)
	}
	media(emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	if c := browser.Eval[string](t, b, background); c != "rgb(13, 17, 23)" {
		t.Errorf("dark background %s", c)
	}
	media(emulation.SetEmulatedMediaParams{Media: "print"})
	if d := browser.Eval[string](t, b, `getComputedStyle(document.querySelector("#ports .controls")).display`); d != "none" {
		t.Errorf("printed, the controls show (display %s)", d)
	}
	if v := browser.Eval[string](t, b, `(b => { b.classList.remove("laid"); const v = getComputedStyle(b).contentVisibility; b.classList.add("laid"); return v })(document.querySelector("#ports-table .hs"))`); v != "visible" {
		t.Errorf("printed, a host's box has content-visibility %s: its rows out of view would not print", v)
	}
	media(emulation.SetEmulatedMediaParams{})

	shot, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Errorf("screenshot: %v", err)
	}
	shotPath := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))
	if d := b.Dialogs(); len(d) > 0 {
		t.Errorf("the page opened dialogs: %q", d)
	}
	if r := b.Requests(); !slices.Equal(r, []string{url}) {
		t.Errorf("requests %q, want the page's own only", r)
	}
}

// TestHTMLTTLInBrowser opens the page of a SYN scan whose answers carry
// their TTL: a row's Reason cell reads "syn-ack ttl 63", the TTL quieter
// than the reason, the host's line its echo reply's TTL, and the filter
// finds the rows of a TTL by its text.
func TestHTMLTTLInBrowser(t *testing.T) {
	b := browser.Open(t, 1280, 1000)
	url := b.Load(t, writePage(t, t.TempDir(), render(t, "html", ttlScenario())), 30*time.Second)
	reason := func(host, port string) string {
		return browser.Eval[string](t, b, `(() => { const g = [...document.querySelectorAll("tr.g")].find(g => g.querySelector(".h").textContent === `+strconv.Quote(host)+`);
			const r = [...g.closest("table").querySelectorAll("tr.r")].find(r => r.cells[0].textContent === `+strconv.Quote(port)+`); return r.cells[3].textContent })()`)
	}
	for _, tt := range []struct{ host, port, want string }{
		{"198.18.65.10", "22/tcp", "syn-ack ttl 63"}, {"198.18.65.10", "23/tcp", "admin-prohibited ttl 254"},
		{"198.18.65.10", "8080/tcp", "no-response"}, {"198.18.64.1", "22/tcp", "reset ttl 254"},
	} {
		if got := reason(tt.host, tt.port); got != tt.want {
			t.Errorf("%s %s: Reason %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
	colors := browser.Eval[[]string](t, b, `(s => [getComputedStyle(s.parentNode).color, getComputedStyle(s).color])(document.querySelector("tr.r td span.muted"))`)
	if colors[0] == colors[1] {
		t.Errorf("the TTL is in the reason's colour, %s: it should be quieter", colors[0])
	}
	if got := browser.Eval[string](t, b, `[...document.querySelectorAll("tr.g")].find(g => g.querySelector(".h").textContent === "198.18.65.10").textContent`); !strings.Contains(got, "received echo-reply ttl 63") {
		t.Errorf("host line %q lacks the echo reply's TTL", got)
	}
	for _, tt := range []struct {
		q    string
		rows int
	}{{"ttl 63", 6}, {"ttl 254", 5}} {
		browser.Eval[bool](t, b, `(() => { const i = document.querySelector('input[data-filter="text"]'); i.value = `+strconv.Quote(tt.q)+`; i.dispatchEvent(new Event("input")); return true })()`)
		if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](visible+" === "+strconv.Itoa(tt.rows))); err != nil {
			t.Errorf("filter %q: %d rows shown, want %d", tt.q, browser.Eval[int](t, b, visible), tt.rows)
		}
	}
	if r := b.Requests(); !slices.Equal(r, []string{url}) {
		t.Errorf("requests %q, want the page's own only", r)
	}
}

// TestHTMLAccessibleOutOfView opens a page of hosts that reach far below
// the window and checks that, once the script has laid out the hosts'
// boxes, every row is in the browser's accessibility tree: Chromium
// leaves out the rows of a content-visibility: auto box that it has
// never laid out, and a screen reader would not find them.
func TestHTMLAccessibleOutOfView(t *testing.T) {
	b := browser.Open(t, 1280, 800)
	url := b.Load(t, writePage(t, t.TempDir(), manyPorts(t, 40, 20)), 30*time.Second)
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-laid-out")`)); err != nil {
		t.Fatalf("the script did not lay out the hosts: %v", err)
	}
	if _, err := chromedp.Call(b.Ctx, accessibility.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// reasons counts the rows' reason cells in the accessibility tree once
	// the script has laid out what act changed.
	reasons := func(act string) int {
		t.Helper()
		if act != "" {
			browser.Eval[bool](t, b, `(() => { `+act+`; return true })()`)
			if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(() => ok(document.documentElement.hasAttribute("data-laid-out")))))`, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
				t.Fatalf("after %s, the script did not lay out the hosts: %v", act, err)
			}
		}
		ax, err := chromedp.Call(b.Ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			t.Fatal(err)
		}
		cells := 0
		for _, n := range ax.Nodes {
			if !n.Ignored && n.Role != nil && n.Name != nil && string(n.Role.Value) == `"cell"` && string(n.Name.Value) == `"syn-ack"` {
				cells++
			}
		}
		return cells
	}
	const filter = `const i = document.querySelector('input[data-filter="text"]'); i.value = %q; i.dispatchEvent(new Event("input"))`
	const sort = `[...document.querySelectorAll("#ports-table th.c-port > button")].find(e => e.checkVisibility()).click()`
	// Filtering and sorting lay out only what is in view, then the rest.
	for _, c := range []struct {
		name, act string
		want      int
	}{
		{"opened", "", 800},
		{"one host", fmt.Sprintf(filter, "127.3.0.7"), 20},
		{"filter cleared", fmt.Sprintf(filter, ""), 800},
		{"sorted", sort, 800},
		{"sorted, filtered", fmt.Sprintf(filter, "127.3.0.3"), 220}, // 127.3.0.3 and 127.3.0.30 to 39
		{"sorted, cleared", fmt.Sprintf(filter, ""), 800},
		{"page's order", sort + "; " + sort, 800},
	} {
		if n := reasons(c.act); n != c.want {
			t.Errorf("%s: %d rows' reason cells in the accessibility tree, want %d", c.name, n, c.want)
		}
	}
	if h := browser.Eval[float64](t, b, `document.documentElement.scrollHeight`); h < 10*800 {
		t.Errorf("the page is %.0f px high: too short to have hosts out of view", h)
	}
	if r := b.Requests(); !slices.Equal(r, []string{url}) {
		t.Errorf("requests %q, want the page's own only", r)
	}
}

// TestHTMLNoNetwork checks that the page's policy stops the requests a
// script might make, to a listener the browser can reach, while the same
// requests from a page without the policy get through (so the listener
// would see them).
func TestHTMLNoNetwork(t *testing.T) {
	b := browser.Open(t, 800, 600)
	var ln net.Listener
	if err := b.NS.Do(func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				fmt.Fprint(c, "HTTP/1.0 200 OK\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	target := "http://" + ln.Addr().String() + "/"
	probe := `Promise.allSettled([
		fetch("` + target + `fetch").then(r => "fetched"),
		new Promise(ok => { const i = new Image(); i.onload = i.onerror = () => ok("img"); i.src = "` + target + `img"; document.body.appendChild(i); }),
		new Promise(ok => { const l = document.createElement("link"); l.rel = "stylesheet"; l.href = "` + target + `css"; l.onload = l.onerror = () => ok("css"); document.head.appendChild(l); }),
		new Promise(ok => { try { const w = new WebSocket("ws://` + ln.Addr().String() + `/"); w.onerror = w.onopen = () => ok("ws"); } catch (e) { ok("ws refused") } }),
	]).then(rs => rs.map(r => r.status + " " + (r.value || r.reason)).join("; "))`
	dir := t.TempDir()
	run := func(path string) string {
		b.Load(t, path, 30*time.Second)
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](probe, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // for a connection still on its way
		return v
	}
	report := writePage(t, dir, render(t, "html", browserScenario()))
	got := run(report)
	if n := conns.Load(); n != 0 {
		t.Errorf("the listener got %d connections from the report page (%s)", n, got)
	}
	if !strings.Contains(got, "rejected TypeError") {
		t.Errorf("fetch was not refused: %s", got)
	}
	// The browser may announce a request it then blocks for the policy:
	// every one must be blocked so.
	blocked := b.Blocked()
	for _, r := range b.Requests() {
		if !strings.HasPrefix(r, "file://") && !slices.Contains(blocked, r) {
			t.Errorf("the report page requested %s, and the policy did not block it", r)
		}
	}
	// The control: the same requests from a page without the policy.
	plain := filepath.Join(dir, "plain.html")
	os.WriteFile(plain, []byte(`<!DOCTYPE html><html><head><title>plain</title></head><body><script>document.documentElement.setAttribute("data-ready", "")</script></body></html>`), 0o644)
	got = run(plain)
	deadline := time.Now().Add(5 * time.Second)
	for conns.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := conns.Load(); n < 3 {
		t.Errorf("without the policy the listener got %d connections (%s): the test could not see a request", n, got)
	}
}

// BenchmarkHTMLOpen10000 measures how long a page of 10,000 open ports
// (100 hosts of 100) takes to open in headless Chromium: from the
// navigation until the table's script has run. It reports the page's
// size too.
func BenchmarkHTMLOpen10000(b *testing.B) {
	br := browser.Open(b, 1280, 1000)
	page := manyPorts(b, 100, 100)
	path := writePage(b, b.TempDir(), page)
	br.Quiet(b)
	b.ResetTimer()
	cpu := br.CPU()
	for range b.N {
		br.Load(b, path, time.Minute)
	}
	b.StopTimer()
	b.ReportMetric(float64((br.CPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/open")
	if n := browser.Eval[int](b, br, `document.querySelectorAll("tr.r").length`); n != 10000 {
		b.Fatalf("%d rows", n)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
	b.ReportMetric(float64(len(page))/1e6, "MB")
	// Once open, the page lays out the hosts it skipped while the browser
	// is idle: how long one more open takes until that is done too.
	start, cpu := time.Now(), br.CPU()
	br.Load(b, path, time.Minute)
	for !browser.Eval[bool](b, br, `document.documentElement.hasAttribute("data-laid-out")`) {
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/laid-out")
	b.ReportMetric(float64((br.CPU() - cpu).Milliseconds()), "cpu-ms/laid-out")
	if os.Getenv("DEBUG_TIMING") != "" {
		b.Log(browser.Eval[string](b, br, `JSON.stringify(performance.getEntriesByType("navigation")[0])`))
		os.WriteFile("/tmp/bench.html", page, 0o644)
		// Where the time of one more open goes, from the renderer's own
		// counts (which start again with each page; its count of layout
		// objects does not, and is left out).
		if _, err := chromedp.Call(br.Ctx, cdpperf.Enable, cdpperf.EnableParams{}); err != nil {
			b.Fatal(err)
		}
		br.Load(b, path, time.Minute)
		m, err := chromedp.Call(br.Ctx, cdpperf.GetMetrics, cdp.Empty{})
		if err != nil {
			b.Fatal(err)
		}
		var parts []string
		for _, x := range m.Metrics {
			switch x.Name {
			case "TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration":
				parts = append(parts, fmt.Sprintf("%s %.0f ms", x.Name, x.Value*1000))
			case "RecalcStyleCount", "LayoutCount":
				parts = append(parts, fmt.Sprintf("%s %.0f", x.Name, x.Value))
			}
		}
		b.Log(strings.Join(parts, ", "))
	}
}

// laidOut opens a page of 10,000 open ports (100 hosts of 100) with the
// DevTools agents that follow the DOM off, and waits until the script
// has laid out every host, as a reader who has had the page open for a
// few seconds has it.
func laidOut(b *testing.B) *browser.Browser {
	br := browser.Open(b, 1280, 1000)
	path := writePage(b, b.TempDir(), manyPorts(b, 100, 100))
	br.Quiet(b)
	br.Load(b, path, time.Minute)
	for !browser.Eval[bool](b, br, `document.documentElement.hasAttribute("data-laid-out")`) {
		time.Sleep(5 * time.Millisecond)
	}
	if os.Getenv("DEBUG_TIMING") != "" {
		if _, err := chromedp.Call(br.Ctx, cdpperf.Enable, cdpperf.EnableParams{}); err != nil {
			b.Fatal(err)
		}
	}
	return br
}

// step is one thing a reader does on the page, and what it is reported
// as: act is a script that does it, and the benchmark waits for the frame
// after the page has shown it.
type step struct {
	unit, act string
}

// nextFrame runs act, then resolves once the browser has drawn the
// frame that shows what it did: the filter's work runs in the next
// animation frame, and the second requestAnimationFrame's callback runs
// only after that frame's style, layout and paint.
const nextFrame = `new Promise(ok => { (() => { %s })(); requestAnimationFrame(() => requestAnimationFrame(() => ok(true))) })`

// measure does the steps b.N times each, in order, and reports the mean
// wall time (ms/UNIT) and processor time of the browser's processes
// (cpu-ms/UNIT) of each. With DEBUG_TIMING set it logs the renderer's
// own counts for each step of the last round (CDP Performance.getMetrics).
func measure(b *testing.B, br *browser.Browser, check func(i int), steps ...step) {
	wall := make([]time.Duration, len(steps))
	cpu := make([]time.Duration, len(steps))
	debug := os.Getenv("DEBUG_TIMING") != ""
	metrics := func() map[string]float64 {
		m, err := chromedp.Call(br.Ctx, cdpperf.GetMetrics, cdp.Empty{})
		if err != nil {
			b.Fatal(err)
		}
		out := map[string]float64{}
		for _, x := range m.Metrics {
			out[x.Name] = x.Value
		}
		return out
	}
	b.ResetTimer()
	for n := range b.N {
		for i, s := range steps {
			var before map[string]float64
			if debug && n == b.N-1 {
				before = metrics()
			}
			start, c := time.Now(), br.CPU()
			if _, err := chromedp.Run(br.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(nextFrame, s.act), chromedp.EvalAwaitPromise)); err != nil {
				b.Fatalf("%s: %v", s.unit, err)
			}
			wall[i] += time.Since(start)
			cpu[i] += br.CPU() - c
			if before != nil {
				after := metrics()
				var parts []string
				for _, k := range []string{"TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration"} {
					parts = append(parts, fmt.Sprintf("%s %.0f ms", k, (after[k]-before[k])*1000))
				}
				for _, k := range []string{"RecalcStyleCount", "LayoutCount"} {
					parts = append(parts, fmt.Sprintf("%s %.0f", k, after[k]-before[k]))
				}
				b.Logf("%s: %s", s.unit, strings.Join(parts, ", "))
			}
			b.StopTimer()
			check(i)
			// What a change left to lay out, the script lays out while the
			// browser is idle: the next step starts from a page laid out.
			for !browser.Eval[bool](b, br, `document.documentElement.hasAttribute("data-laid-out")`) {
				time.Sleep(5 * time.Millisecond)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	for i, s := range steps {
		b.ReportMetric(float64(wall[i].Microseconds())/1000/float64(b.N), "ms/"+s.unit)
		b.ReportMetric(float64(cpu[i].Milliseconds())/float64(b.N), "cpu-ms/"+s.unit)
	}
}

// BenchmarkHTMLFilter10000 measures filtering a page of 10,000 open
// ports once every host is laid out: typing a host's address into the
// text filter (100 rows left) and clearing it (all 10,000 back), each
// from the input event to the frame that shows it.
func BenchmarkHTMLFilter10000(b *testing.B) {
	br := laidOut(b)
	const input = `const i = document.querySelector('input[data-filter="text"]'); i.value = %q; i.dispatchEvent(new Event("input"))`
	want := []int{100, 10000}
	measure(b, br, func(i int) {
		if n := browser.Eval[int](b, br, visible); n != want[i] {
			b.Fatalf("%d rows shown, want %d", n, want[i])
		}
	}, step{"filter", fmt.Sprintf(input, "127.3.0.42")}, step{"clear", fmt.Sprintf(input, "")})
}

// BenchmarkHTMLSort10000 measures sorting the 10,000 rows of a page of
// 100 hosts once every host is laid out: by port (from the hosts' tables
// to the rows of every host in one order), by port descending, and back
// to the page's order and the hosts' tables, each from the click to the
// frame that shows it.
func BenchmarkHTMLSort10000(b *testing.B) {
	br := laidOut(b)
	const click = `[...document.querySelectorAll("#ports-table th.c-port > button")].find(e => e.checkVisibility()).click()`
	first := `[...document.querySelectorAll("tr.r")].find(r => r.checkVisibility()).textContent`
	measure(b, br, func(i int) {
		got := browser.Eval[string](b, br, first)
		want := []string{"127.3.0.11/tcp", "127.3.0.1100/tcp", "1/tcp"}[i]
		if !strings.HasPrefix(got, want) {
			b.Fatalf("after %d clicks the first row shown is %q, want %q...", i+1, got, want)
		}
	}, step{"sort", click}, step{"resort", click}, step{"unsort", click})
}
