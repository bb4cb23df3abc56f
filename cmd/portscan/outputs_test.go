package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
)

// recSink records the events it gets and fails as told.
type recSink struct {
	events           []string
	beginErr, endErr error
	interrupted      bool // as End was told
	panicOnEnd       bool
}

func (s *recSink) Begin(result.Info) error {
	s.events = append(s.events, "begin")
	return s.beginErr
}
func (s *recSink) Port(result.Port) error { s.events = append(s.events, "port"); return nil }
func (s *recSink) Host(result.Host) error { s.events = append(s.events, "host"); return nil }
func (s *recSink) End(sum result.Summary) error {
	s.events = append(s.events, "end")
	s.interrupted = sum.Interrupted
	if s.panicOnEnd {
		panic("end")
	}
	return s.endErr
}

func TestEmitPrecedence(t *testing.T) {
	boom, full := errors.New("boom"), errors.New("disk full")
	for _, c := range []struct {
		name             string
		beginErr, endErr error
		sum              result.Summary
		err              error
		code             int // 0: no error
		msg              string
	}{
		{"ok", nil, nil, result.Summary{}, nil, 0, ""},
		{"begin fails", full, nil, result.Summary{}, nil, exitFail, "disk full"},
		{"producer fails", nil, nil, result.Summary{}, boom, exitFail, "boom"},
		{"interrupted", nil, nil, result.Summary{Interrupted: true}, nil, exitInterrupted, "interrupted; results so far are written"},
		{"canceled", nil, nil, result.Summary{}, fmt.Errorf("scan: %w", context.Canceled), exitInterrupted, "interrupted; results so far are written"},
		{"sink failed, interrupted", nil, nil, result.Summary{Interrupted: true}, fmt.Errorf("%w: %w", scanner.ErrSink, full), exitFail, "writing output: disk full"},
		{"end fails, interrupted", nil, full, result.Summary{Interrupted: true}, boom, exitFail, "disk full"},
		{"sink and end fail", nil, boom, result.Summary{}, fmt.Errorf("%w: %w", scanner.ErrSink, full), exitFail, "writing output: disk full"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := &recSink{beginErr: c.beginErr}, &recSink{endErr: c.endErr}
			produced := false
			err := emit([]result.Sink{a, b}, result.Info{}, func(w result.Sink) (result.Summary, error) {
				produced = true
				w.Port(result.Port{})
				return c.sum, c.err
			})
			var ee *exitError
			switch {
			case c.code == 0 && err != nil, c.code != 0 && (!errors.As(err, &ee) || ee.code != c.code || err.Error() != c.msg):
				t.Errorf("error %v, want exit %d with %q", err, c.code, c.msg)
			}
			if produced == (c.beginErr != nil) {
				t.Errorf("produced %v with Begin error %v", produced, c.beginErr)
			}
			if c.beginErr == nil {
				for _, s := range []*recSink{a, b} {
					if fmt.Sprint(s.events) != "[begin port end]" {
						t.Errorf("events %v", s.events)
					}
				}
			}
		})
	}
}

// TestEmitPanicEndsSinks checks that a panic in the producer ends every
// sink, as interrupted, before it goes on; and that a sink's panic in End
// does not end the sinks twice.
func TestEmitPanicEndsSinks(t *testing.T) {
	for _, c := range []struct {
		name       string
		panicOnEnd bool
		want       string
	}{{"producer panics", false, "[begin end]"}, {"End panics", true, "[begin end]"}} {
		t.Run(c.name, func(t *testing.T) {
			a, b := &recSink{panicOnEnd: c.panicOnEnd}, &recSink{}
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Error("the panic did not go on")
					}
				}()
				emit([]result.Sink{a, b}, result.Info{}, func(result.Sink) (result.Summary, error) {
					if !c.panicOnEnd {
						panic("producer")
					}
					return result.Summary{}, nil
				})
			}()
			if fmt.Sprint(a.events) != c.want || a.interrupted == c.panicOnEnd {
				t.Errorf("first sink: %v, interrupted %v", a.events, a.interrupted)
			}
			if !c.panicOnEnd && (fmt.Sprint(b.events) != c.want || !b.interrupted) {
				t.Errorf("second sink: %v, interrupted %v", b.events, b.interrupted)
			}
		})
	}
}
