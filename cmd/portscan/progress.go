package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rivo/uniseg"
	"golang.org/x/term"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
)

// The bar is our own rather than github.com/schollz/progressbar's: that
// one counts its Add calls, not the probes the engine sends, and starts
// its rate from the first burst (150k/s under --rate 3000); its text
// after the bar does not shrink, so in a narrow terminal every update
// wrapped and scrolled; and it reads the width of stdout, not of the
// stream it draws on. What is needed is one line drawn from the
// engine's counts, fitted to the width at each draw.

// barEvery is how often the bar is redrawn.
const barEvery = 200 * time.Millisecond

// rateWindow is the span of the moving average of the rates shown.
const rateWindow = 3 * time.Second

// progressOptions say what a progress display shows and where.
type progressOptions struct {
	w     io.Writer
	bar   bool        // draw the bar (a terminal, or --progress always)
	width func() int  // the terminal's width, read at each draw
	paint *text.Paint // the bar's fill; nil draws it plain
	total int64       // ports (hosts when discovering) to settle; -1 unknown
	unit  string      // "ports" or "hosts"
	hosts uint64      // hosts to scan; 0 unknown
	every time.Duration
}

// progress shows a scan's progress on stderr: a bar fitted to the
// terminal, and a status line every --stats-every, both from the
// engine's counts (scanner.Config.Progress). It is a result.Sink too,
// the first of a scan's, so that it clears itself before a host's
// report is printed; clear makes room for a message.
type progress struct {
	mu      sync.Mutex
	opt     progressOptions
	shown   bool // a bar line is on screen
	done    bool // finished or interrupted: draw nothing more
	samples []scanner.Stats
	next    time.Duration // of the next status line
	quit    chan struct{}
	stopped chan struct{} // closed once the bar is gone for good
	once    sync.Once
}

// newProgress sets up the progress display of a scan: the bar when
// stderr is a terminal (or --progress always) and not -q, and the
// status lines of --stats-every. It returns nil when there is neither.
func newProgress(ctx context.Context, g *globals, f *scanFlags, job *scanJob) *progress {
	opt := progressOptions{w: g.stderr, every: f.statsEvery, width: func() int { return 80 }, total: -1, unit: "ports"}
	file, isFile := g.stderr.(*os.File)
	tty := isFile && isatty.IsTerminal(file.Fd())
	switch f.progress {
	case "always":
		opt.bar = true
	case "auto":
		opt.bar = tty
	}
	opt.bar = opt.bar && !g.quiet
	if !opt.bar && opt.every == 0 {
		return nil
	}
	if tty {
		opt.width = func() int {
			if w, _, err := term.GetSize(int(file.Fd())); err == nil && w > 0 {
				return w
			}
			return 80
		}
	}
	opt.paint = text.NewPaint(g.useColor(g.stderr))
	if hosts, err := job.targets.Count(ctx); err == nil {
		opt.hosts = hosts
		per := uint64(job.numPorts())
		if job.cfg.DiscoverOnly {
			per, opt.unit = 1, "hosts"
		}
		if hosts < (1<<62)/max(per, 1) {
			opt.total = int64(hosts * per)
		}
	}
	if job.cfg.Shard.Sharded() {
		// The shard's share; how many hosts own some of it is not known
		// but with -sn, where a host is an element of the share.
		opt.total, opt.hosts = int64(job.share), 0
		if job.cfg.DiscoverOnly {
			opt.hosts = job.share
		}
	}
	return newBar(ctx, opt)
}

// newBar starts a progress display; it clears the bar as soon as ctx
// is cancelled (Ctrl-C), before the scan winds down and reports.
func newBar(ctx context.Context, opt progressOptions) *progress {
	p := &progress{opt: opt, next: opt.every, quit: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		select {
		case <-ctx.Done():
			p.finish()
		case <-p.quit:
		}
	}()
	return p
}

// interval is how often the engine should report its counts.
func (p *progress) interval() time.Duration {
	if p.opt.bar && p.opt.every > 0 {
		return min(barEvery, p.opt.every)
	}
	if p.opt.bar {
		return barEvery
	}
	return p.opt.every
}

// update takes the engine's counts: it redraws the bar, and prints a
// status line when one is due.
func (p *progress) update(s scanner.Stats) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.samples = append(p.samples, s)
	for len(p.samples) > 2 && s.Elapsed-p.samples[1].Elapsed >= rateWindow {
		p.samples = p.samples[1:]
	}
	if p.opt.every > 0 && s.Elapsed >= p.next {
		p.clearLocked()
		fmt.Fprintln(p.opt.w, p.statusLine(s))
		p.next = (s.Elapsed/p.opt.every + 1) * p.opt.every
	}
	if p.opt.bar {
		fmt.Fprint(p.opt.w, "\r"+p.barLine(s, p.opt.width())+"\x1b[K")
		p.shown = true
	}
}

// done is what is settled of the total.
func (p *progress) settled(s scanner.Stats) int64 {
	if p.opt.unit == "hosts" {
		return int64(s.HostsDone)
	}
	return s.Ports
}

// rates are the probes and the settled units a second, over the last
// rateWindow; before a second of samples, over the whole run once it
// has lasted a second; else unknown (ok false).
func (p *progress) rates(s scanner.Stats) (probes, settled float64, ok bool) {
	first := p.samples[0]
	if d := (s.Elapsed - first.Elapsed).Seconds(); d >= 1 {
		return float64(s.Probes-first.Probes) / d, float64(p.settled(s)-p.settled(first)) / d, true
	}
	if d := s.Elapsed.Seconds(); d >= 1 {
		return float64(s.Probes) / d, float64(p.settled(s)) / d, true
	}
	return 0, 0, false
}

// eta is the time left at the rate of settling, if known.
func (p *progress) eta(s scanner.Stats) (time.Duration, bool) {
	_, rate, ok := p.rates(s)
	left := p.opt.total - p.settled(s)
	if !ok || p.opt.total < 0 || rate <= 0 || left < 0 {
		return 0, false
	}
	return time.Duration(float64(left) / rate * float64(time.Second)), true
}

// barLine is the bar for a terminal width cells wide: as many of its
// parts as fit in one cell less than the width (a line that fills the
// last column wraps on some terminals), the least needed dropped first.
func (p *progress) barLine(s scanner.Stats, width int) string {
	var pct, count, rate, eta string
	frac := -1.0
	if p.opt.total > 0 {
		frac = min(1, float64(p.settled(s))/float64(p.opt.total))
		pct = fmt.Sprintf("%3.0f%%", 100*frac)
		count = fmt.Sprintf("%d/%d %s", p.settled(s), p.opt.total, p.opt.unit)
	} else {
		count = fmt.Sprintf("%d %s", p.settled(s), p.opt.unit)
	}
	if r, _, ok := p.rates(s); ok {
		rate = fmt.Sprintf("%.0f probes/s", r)
	}
	if d, ok := p.eta(s); ok {
		eta = "ETA " + clock(d)
	}
	avail := width - 1
	const minBar = 10
	type layout struct {
		label, bar bool
		parts      []string
	}
	for _, l := range []layout{
		{true, true, []string{pct, count, rate, eta}},
		{false, true, []string{pct, count, rate, eta}},
		{false, true, []string{pct, rate, eta}},
		{false, false, []string{pct, count, rate, eta}},
		{false, false, []string{pct, rate, eta}},
		{false, false, []string{pct, eta}},
		{false, false, []string{pct}},
		{false, false, []string{count}},
	} {
		var parts []string
		if l.label {
			parts = append(parts, "scanning")
		}
		for _, s := range l.parts {
			if s != "" {
				parts = append(parts, s)
			}
		}
		line := strings.Join(parts, " ")
		if !l.bar || frac < 0 {
			if uniseg.StringWidth(line) <= avail {
				return line
			}
			continue
		}
		room := avail - uniseg.StringWidth(line) - 3 // " [" and "]"
		if room < minBar {
			continue
		}
		fill := int(frac * float64(room))
		bar := strings.Repeat("=", fill) + strings.Repeat(" ", room-fill)
		if p.opt.paint != nil {
			bar = p.opt.paint.Good(bar[:fill]) + bar[fill:]
		}
		// The bar goes after the percentage, the rest after it.
		head, tail := parts[0], strings.Join(parts[1:], " ")
		if l.label {
			head, tail = parts[0]+" "+parts[1], strings.Join(parts[2:], " ")
		}
		if tail == "" {
			return head + " [" + bar + "]"
		}
		return head + " [" + bar + "] " + tail
	}
	return ""
}

// statusLine is a --stats-every line, like nmap's: elapsed, hosts done,
// probes sent and their rate, how much is done and the time left.
func (p *progress) statusLine(s scanner.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "portscan: %s elapsed; ", clock(s.Elapsed))
	if p.opt.hosts > 0 {
		fmt.Fprintf(&b, "%d of %s done", s.HostsDone, text.Count(int(p.opt.hosts), "host", "hosts"))
	} else {
		fmt.Fprintf(&b, "%s done", text.Count(s.HostsDone, "host", "hosts"))
	}
	fmt.Fprintf(&b, " (%d up), %d scanning; %d probes sent", s.HostsUp, s.HostsActive, s.Probes)
	if r, _, ok := p.rates(s); ok {
		fmt.Fprintf(&b, ", %.0f/s", r)
	}
	if p.opt.total > 0 {
		fmt.Fprintf(&b, "; %.0f%% done", 100*min(1, float64(p.settled(s))/float64(p.opt.total)))
		if d, ok := p.eta(s); ok {
			fmt.Fprintf(&b, ", about %s left", clock(d))
		}
	}
	return b.String()
}

// clock writes d as h:mm:ss, as nmap's status lines do.
func clock(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

// clear wipes the bar so that a message can be printed; it comes back
// at the next update.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.shown {
		fmt.Fprint(p.opt.w, "\r\x1b[K")
		p.shown = false
	}
}

// finish wipes the bar for good.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.clearLocked()
	p.done = true
	p.mu.Unlock()
	p.once.Do(func() { close(p.quit) })
}

func (p *progress) Begin(result.Info) error { return nil }

func (p *progress) Port(result.Port) error { return nil }

func (p *progress) Host(result.Host) error {
	p.clear() // a report may follow on the same terminal
	return nil
}

func (p *progress) End(result.Summary) error {
	p.finish()
	return nil
}
