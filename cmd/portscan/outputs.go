package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
)

// openOutputs opens the scan's outputs, each a result.Sink: the main one
// in --format on stdout or -o FILE, and nmap XML (--output-xml) and text
// (--output-normal) beside it. The files are closed with the job.
func (j *scanJob) openOutputs(g *globals, f *scanFlags, show map[result.State]bool) error {
	main := g.stdout
	if f.out != "" {
		file, err := os.Create(f.out)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		j.closers = append(j.closers, file)
		main = file
	}
	xsl := f.xsl.href()
	all, down := shownInFull(f)
	w, err := output.New(f.format, main, output.Options{Show: show, ShowAll: all, ShowDown: down, Color: f.out == "" && g.useColor(g.stdout), Lang: g.lang, Reason: f.reason, Stylesheet: xsl})
	if err != nil {
		j.close()
		return err
	}
	j.sinks = append(j.sinks, w)
	for _, extra := range []struct{ path, format string }{{f.outXML, "xml"}, {f.outNormal, "text"}} {
		if extra.path == "" {
			continue
		}
		file, err := os.Create(extra.path)
		if err != nil {
			j.close()
			return err
		}
		j.closers = append(j.closers, file)
		w, _ := output.New(extra.format, file, output.Options{Show: show, ShowAll: all, ShowDown: down, Lang: g.lang, Reason: f.reason, Stylesheet: xsl})
		j.sinks = append(j.sinks, w)
	}
	return nil
}

// emit runs produce, which sends a run's results to the sink it is
// given, between Begin and End: the one way a command's results reach
// its sinks, all of them through one result.Tee. Should produce or a
// sink panic, the sinks are ended first, as interrupted, so that the
// documents written so far stay whole, and the panic goes on.
//
// The error is, by precedence: a sink's (exit 1; a producer's error
// that wraps scanner.ErrSink is one), an interruption (exit 130), too
// low an open-file limit (scanner.ErrFileLimit, exit 2), the producer's
// own (exit 1).
func emit(sinks []result.Sink, info result.Info, produce func(result.Sink) (result.Summary, error)) error {
	w := result.Tee(sinks...)
	if err := w.Begin(info); err != nil {
		// Close the outputs that did begin, so that they stay valid.
		w.End(result.Summary{Start: info.Start, End: time.Now(), Interrupted: true})
		return &exitError{code: exitFail, err: err}
	}
	ended := false
	defer func() {
		if r := recover(); r != nil {
			if !ended {
				w.End(result.Summary{Interrupted: true})
			}
			panic(r)
		}
	}()
	stats, err := produce(w)
	var werr error
	if errors.Is(err, scanner.ErrSink) {
		werr, err = err, nil
	}
	ended = true
	if eerr := w.End(stats); eerr != nil && werr == nil {
		werr = eerr
	}
	switch {
	case werr != nil:
		return &exitError{code: exitFail, err: werr}
	case stats.Interrupted || errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; results so far are written")}
	case errors.Is(err, scanner.ErrFileLimit):
		return &exitError{code: exitUsage, err: err}
	case err != nil:
		return &exitError{code: exitFail, err: err}
	}
	return nil
}
