// Package browser opens portscan's HTML pages in headless Chromium for
// tests and benchmarks, driven over the Chrome DevTools Protocol
// (chromedp).
//
// The browser runs inside a network namespace of its own that has only
// lo (internal/lab), started through "ip netns exec", and is driven over
// a pipe (--remote-debugging-pipe), so that it has no network to reach
// even should a page or the browser itself try; it runs with
// --disable-background-networking, --disable-component-update and
// --no-first-run besides. Every request the page makes is recorded from
// the Network domain, for the tests that a page makes none.
//
// Open skips the test, saying why, where Chromium or the namespaces are
// missing; under PORTSCAN_LAB_REQUIRE it fails it instead.
package browser

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/portscan/portscan/internal/lab"
)

// Chromium is where the browser is looked for: $PORTSCAN_CHROMIUM, else
// Debian's chromium on the PATH.
func Chromium() (string, error) {
	if p := os.Getenv("PORTSCAN_CHROMIUM"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		return "", errors.New("chromium not installed (apt-get install chromium)")
	}
	return p, nil
}

// Browser is a headless Chromium with one tab, in a namespace of its own.
type Browser struct {
	// Ctx is the tab's chromedp context, for chromedp.Run and Do.
	Ctx context.Context
	// NS is the namespace the browser runs in: a listener made there
	// (NS.Do) is what the page would reach on 127.0.0.1.
	NS *lab.Namespace

	quiet bool

	mu       sync.Mutex
	requests []string
	ids      map[network.RequestID]string
	blocked  []string
	dialogs  []string
}

// Open starts the browser for t, and stops it at cleanup.
func Open(t testing.TB, width, height int64) *Browser {
	t.Helper()
	bin, err := Chromium()
	if err != nil {
		if os.Getenv(lab.RequireEnv) != "" {
			t.Fatalf("%v (%s is set)", err, lab.RequireEnv)
		}
		t.Skipf("browser test skipped: %v", err)
	}
	lab.Require(t)
	ns := lab.NewNamespace(t, "browser")
	// chromedp runs one program with the browser's flags; this one enters
	// the namespace first. The pipe's descriptors 3 and 4 go through.
	wrapper := filepath.Join(t.TempDir(), "chromium-in-netns")
	script := "#!/bin/sh\nexec ip netns exec '" + ns.Name() + "' '" + bin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(wrapper),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.WindowSize(int(width), int(height)),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, NS: ns, ids: map[network.RequestID]string{}}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return b
}

// Quiet turns off the DevTools agents that chromedp enables for its
// element queries and that follow every node and style of a page (DOM,
// CSS), for measuring how long a page takes to open as it would without
// DevTools. The Network agent stays, so requests are still recorded;
// element queries (chromedp.Click, SendKeys) no longer work, and Load
// polls the page itself.
func (b *Browser) Quiet(t testing.TB) {
	t.Helper()
	if _, err := chromedp.Call(b.Ctx, css.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Ctx, dom.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.quiet = true
}

// record keeps the URL of every request and the message of every dialog.
func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
		b.ids[e.RequestID] = e.Request.URL
	case *network.EventLoadingFailed:
		if e.BlockedReason == network.BlockedReasonCsp {
			b.blocked = append(b.blocked, b.ids[e.RequestID])
		}
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, e.Message)
	}
}

// Requests returns the URLs the tab asked for so far, page loads
// included.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// Blocked returns the URLs of the requests the page's
// Content-Security-Policy stopped before they left.
func (b *Browser) Blocked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.blocked...)
}

// Dialogs returns the messages of the alerts, confirms and prompts the
// pages opened: a script that should never have run.
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Load opens the page at path (a file) and waits until its script has
// run (it sets data-ready on <html>), or fails the test after timeout.
// It returns the file:// URL.
func (b *Browser) Load(t testing.TB, path string, timeout time.Duration) string {
	t.Helper()
	url := FileURL(t, path)
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if b.quiet {
		if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url}); err != nil {
			t.Fatalf("opening %s: %v", url, err)
		}
		for {
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState !== "loading" && document.documentElement.hasAttribute("data-ready") && location.href === `+strconv.Quote(url)))
			if err != nil {
				t.Fatalf("%s: the page's script did not run: %v", url, err)
			}
			if done {
				return url
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-ready")`)); err != nil {
		t.Fatalf("%s: the page's script did not run: %v", url, err)
	}
	return url
}

// CPU returns the processor time the browser's processes (all of those
// in its namespace) have used so far, user and system: a measure of its
// work that, unlike the wall clock, does not grow when other programs
// take the machine's cores.
func (b *Browser) CPU() time.Duration {
	var ticks int64
	for _, pid := range b.NS.Pids() {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis: state is
		// the first, utime the 12th and stime the 13th.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// FileURL is path's file:// URL.
func FileURL(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + filepath.ToSlash(abs)
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value, failing the test on error.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
