package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portscan/portscan/internal/browser"
	gold "github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/internal/lab"
)

// screenshotPath is the LAN lab's report as the README shows it; go test
// -run TestLabHTMLReport -update writes it again.
const screenshotPath = "../../docs/html-report.png"

// TestLabHTMLReport scans the LAN lab into an HTML page from its scanner
// namespace, then opens the page in headless Chromium: its eight hosts
// up (five live, three that answer ARP and drop the rest), the eleven
// open ports of the five, the heat map, no request; under -update the
// screenshot becomes docs/html-report.png.
func TestLabHTMLReport(t *testing.T) {
	if !lab.InChild() {
		dir := t.TempDir()
		l := lab.NewLAN(t)
		l.Scanner.Reexec(t, dir)
		if t.Failed() {
			return
		}
		path := filepath.Join(dir, "lan.html")
		page(t, path, `<body class="scan">`, "198.18.0.5")
		b := browser.Open(t, 1200, 900)
		url := b.Load(t, path, 30*time.Second)
		if n := browser.Eval[int](t, b, `document.querySelectorAll("tr.r").length`); n != 11 {
			t.Errorf("%d port rows, want the lab's 11 open ports", n)
		}
		cards := browser.Eval[[]string](t, b, `[...document.querySelectorAll("#summary .cards li")].map(li => li.textContent)`)
		for _, want := range []string{"16 hosts", "8 up", "11 open ports"} {
			if !slices.Contains(cards, want) {
				t.Errorf("summary %q lacks %q", cards, want)
			}
		}
		if n := browser.Eval[int](t, b, `document.querySelectorAll("#heatmap svg text[text-anchor=end]").length`); n != 5 {
			t.Errorf("the heat map has %d hosts, want 5", n)
		}
		shot, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if *gold.Update {
			gold.Write(t, screenshotPath, shot)
		}
		if r := b.Requests(); !slices.Equal(r, []string{url}) {
			t.Errorf("requests %q, want the page's own only", r)
		}
		return
	}
	var dir string
	lab.ChildData(t, &dir)
	t.Chdir(dir)
	out := "lan.html"
	var stdout, stderr bytes.Buffer
	g := &globals{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, resolve: fakeResolve}
	if code := runWith(t.Context(), g, []string{"-q", "--format", "html", "-o", out, "198.18.0.0/28"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `<tr class="r"`); n != 11 {
		t.Errorf("%d port rows, want 11", n)
	}
}
