package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"github.com/portscan/portscan/scanner"
)

// lines splits what the bar wrote into the lines it drew: each starts
// with a carriage return, and a clear is "\r\x1b[K".
func drawn(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\r") {
		l = strings.TrimSuffix(strings.TrimPrefix(l, "\x1b[K"), "\x1b[K")
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// at3000 is the stats of a scan sending 3000 probes a second, at t.
func at3000(t time.Duration) scanner.Stats {
	n := int64(t.Seconds() * 3000)
	return scanner.Stats{Elapsed: t, Probes: n, Ports: n, HostsActive: 1}
}

// TestBarFitsWidth checks that the bar never takes more than the
// terminal's width, however narrow, so that it never wraps and scrolls,
// and that it follows the width as it changes (SIGWINCH).
func TestBarFitsWidth(t *testing.T) {
	for _, width := range []int{10, 20, 40, 80, 200} {
		var buf bytes.Buffer
		p := newBar(context.Background(), progressOptions{w: &buf, bar: true, width: func() int { return width }, total: 311000, unit: "ports"})
		for i := range 30 {
			p.update(at3000(time.Duration(i) * 300 * time.Millisecond))
		}
		p.finish()
		lines := drawn(buf.String())
		if len(lines) == 0 {
			t.Fatalf("width %d: nothing drawn", width)
		}
		for _, l := range lines {
			if w := uniseg.StringWidth(l); w >= width || strings.Contains(l, "\n") {
				t.Errorf("width %d: line %q takes %d cells", width, l, w)
			}
		}
		if width >= 80 && !strings.Contains(lines[len(lines)-1], "[") {
			t.Errorf("width %d: no bar in %q", width, lines[len(lines)-1])
		}
	}
	var buf bytes.Buffer
	width := 120
	p := newBar(context.Background(), progressOptions{w: &buf, bar: true, width: func() int { return width }, total: 311000, unit: "ports"})
	p.update(at3000(time.Second))
	width = 30
	buf.Reset()
	p.update(at3000(2 * time.Second))
	for _, l := range drawn(buf.String()) {
		if uniseg.StringWidth(l) >= 30 {
			t.Errorf("after the terminal narrowed to 30: %q", l)
		}
	}
}

// TestBarRateStartsSane checks that the first ticks show no rate, and
// that the rate shown is the probes sent over the last seconds, not a
// burst over a few milliseconds.
func TestBarRateStartsSane(t *testing.T) {
	var buf bytes.Buffer
	p := newBar(context.Background(), progressOptions{w: &buf, bar: true, width: func() int { return 120 }, total: 311000, unit: "ports"})
	p.update(scanner.Stats{Elapsed: 10 * time.Millisecond, Probes: 1500, Ports: 1500})
	if l := drawn(buf.String()); len(l) != 1 || strings.Contains(l[0], "/s") {
		t.Fatalf("first tick %q: want no rate before a second of samples", l)
	}
	for i := 1; i <= 20; i++ {
		p.update(at3000(time.Duration(i) * 200 * time.Millisecond))
	}
	lines := drawn(buf.String())
	if last := lines[len(lines)-1]; !strings.Contains(last, "3000 probes/s") || !strings.Contains(last, "ETA") {
		t.Errorf("after 4 s at 3000/s: %q", last)
	}
}

// TestStatsEvery checks the status lines of --stats-every: one each
// interval, without a bar, saying what nmap's do.
func TestStatsEvery(t *testing.T) {
	var buf bytes.Buffer
	p := newBar(context.Background(), progressOptions{w: &buf, every: time.Second, total: 30000, unit: "ports", hosts: 10})
	for i := 1; i <= 11; i++ {
		s := at3000(time.Duration(i) * 200 * time.Millisecond)
		s.HostsDone, s.HostsUp = i/4, i/8
		p.update(s)
	}
	p.finish()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d status lines in 2.2 s at 1 s, want 2:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"portscan: 0:00:01 elapsed", "1 of 10 hosts done (0 up), 1 scanning", "3000 probes sent", "3000/s", "10% done", "about 0:00:09 left"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("status line %q lacks %q", lines[0], want)
		}
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("a bar was drawn: %q", buf.String())
	}
}

// TestBarClearedOnInterrupt checks that Ctrl-C (the context cancelled)
// wipes the bar at once, before the final report is written, and that
// nothing is drawn after.
func TestBarClearedOnInterrupt(t *testing.T) {
	var buf syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	p := newBar(ctx, progressOptions{w: &buf, bar: true, width: func() int { return 80 }, total: 311000, unit: "ports"})
	p.update(at3000(time.Second))
	cancel()
	<-p.stopped
	if out := buf.String(); !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("after the interrupt: %q, want the line cleared", out)
	}
	n := len(buf.String())
	p.update(at3000(2 * time.Second))
	if len(buf.String()) != n {
		t.Errorf("drawn after the interrupt: %q", buf.String()[n:])
	}
}

// syncBuffer is a bytes.Buffer safe for the bar's goroutine and the
// test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
