package main

import (
	"context"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/portscan/portscan/result"
)

// progress is the bar on stderr; its zero value shows nothing. It is a
// result.Sink: it goes first among a scan's sinks, so that it clears
// itself before a host's report is printed.
type progress struct {
	bar     *progressbar.ProgressBar
	perHost int64 // probes of a host, counted at once for a host found down
}

// newProgress shows a bar with rate and ETA when stderr is a terminal
// (or --progress always), and nothing with -q or --progress never.
func newProgress(ctx context.Context, g *globals, f *scanFlags, job *scanJob) *progress {
	show := false
	switch f.progress {
	case "always":
		show = true
	case "auto":
		if file, ok := g.stderr.(*os.File); ok {
			show = isatty.IsTerminal(file.Fd())
		}
	}
	if g.quiet || !show {
		return &progress{}
	}
	hosts, err := job.targets.Count(ctx)
	if err != nil {
		return &progress{}
	}
	total := int64(-1)
	if n := uint64(job.numPorts()); hosts < (1<<62)/max(n, 1) {
		total = int64(hosts * n)
	}
	return &progress{perHost: int64(job.numPorts()), bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("scanning"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("probes"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)}
}

func (p *progress) add(n int64) {
	if p.bar != nil {
		p.bar.Add64(n)
	}
}

// clear wipes the bar so that a message can be printed; it comes back
// with the next update.
func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
}

func (p *progress) Begin(result.Info) error { return nil }

func (p *progress) Port(result.Port) error {
	p.add(1)
	return nil
}

func (p *progress) Host(h result.Host) error {
	if !h.Up {
		p.add(p.perHost)
	}
	p.clear() // a report may follow on the same terminal
	return nil
}

func (p *progress) End(result.Summary) error {
	p.finish()
	return nil
}
