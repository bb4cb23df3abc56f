package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portscan/portscan/baseline"
)

// baselineCheck compares a scan with a saved run (scan --baseline).
type baselineCheck struct {
	old, cur *baseline.Run
}

// readBaseline reads the saved run of --baseline, if any, before
// anything is sent and before the outputs are created, so that -o may
// name the same file.
func (j *scanJob) readBaseline(g *globals, path string) error {
	if path == "" {
		return nil
	}
	old, err := baseline.ReadFile(path, baseline.ReadOptions{Label: g.catalog.Lookup})
	if err != nil {
		return fmt.Errorf("--baseline: %w", err)
	}
	j.base = &baselineCheck{old: old, cur: baseline.NewRun("this scan")}
	return nil
}

// watchBaseline records the scan beside its other outputs, for the
// comparison with the saved run.
func (j *scanJob) watchBaseline() {
	if j.base != nil {
		j.sinks = append(j.sinks, j.base.cur.Writer(baseline.WriterOptions{}))
	}
}

// compareBaseline writes the differences from the saved run on stderr,
// apart from the results, and fails when there are any.
func (j *scanJob) compareBaseline(g *globals) error {
	if j.base == nil {
		return nil
	}
	d := baseline.Compare(j.base.old, j.base.cur, baseline.CompareOptions{})
	if err := d.WriteText(g.stderr, g.useColor(g.stderr)); err != nil {
		return &exitError{code: exitFail, err: err}
	}
	if !d.Empty() {
		return &exitError{code: exitFail, err: errors.New(strings.TrimSuffix(strings.ToLower(d.Summary()[:1])+d.Summary()[1:], ".") + " from the baseline")}
	}
	return nil
}
