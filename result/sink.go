package result

import (
	"errors"
	"sync"
)

// Sink receives the events of a run: Begin first and End last; Port and
// Host may interleave across hosts, but a host's Host event follows all
// of its Port events. Producers (the scanner, the capture analysis)
// emit to a Sink; every output format is one. A Sink that returns an
// error asks the producer to stop.
type Sink interface {
	// Begin opens the run.
	Begin(Info) error
	// Port reports one port's result as soon as it is known.
	Port(Port) error
	// Host reports that all of a host's ports have been reported.
	Host(Host) error
	// End closes the run, interrupted or not (Summary.Interrupted).
	End(Summary) error
}

// Funcs is a Sink made of functions, for callers that want one or two
// events; a nil function ignores its event.
type Funcs struct {
	OnBegin func(Info)
	OnPort  func(Port)
	OnHost  func(Host)
	OnEnd   func(Summary)
}

// Begin calls OnBegin.
func (f Funcs) Begin(i Info) error {
	if f.OnBegin != nil {
		f.OnBegin(i)
	}
	return nil
}

// Port calls OnPort.
func (f Funcs) Port(p Port) error {
	if f.OnPort != nil {
		f.OnPort(p)
	}
	return nil
}

// Host calls OnHost.
func (f Funcs) Host(h Host) error {
	if f.OnHost != nil {
		f.OnHost(h)
	}
	return nil
}

// End calls OnEnd.
func (f Funcs) End(s Summary) error {
	if f.OnEnd != nil {
		f.OnEnd(s)
	}
	return nil
}

// Tee returns a Sink that hands every event to each of sinks, in order.
// One sink's failure does not keep the event from the others: each event
// goes to every sink that has not failed yet, and the first error of each
// sink is returned, joined, from that event on. End reaches every sink,
// so each closes its document.
func Tee(sinks ...Sink) Sink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return &tee{sinks: sinks, errs: make([]error, len(sinks))}
}

type tee struct {
	mu    sync.Mutex
	sinks []Sink
	errs  []error // each sink's first error
}

func (t *tee) each(end bool, f func(Sink) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.sinks {
		if t.errs[i] != nil && !end {
			continue
		}
		if err := f(s); err != nil && t.errs[i] == nil {
			t.errs[i] = err
		}
	}
	return errors.Join(t.errs...)
}

func (t *tee) Begin(i Info) error { return t.each(false, func(s Sink) error { return s.Begin(i) }) }
func (t *tee) Port(p Port) error  { return t.each(false, func(s Sink) error { return s.Port(p) }) }
func (t *tee) Host(h Host) error  { return t.each(false, func(s Sink) error { return s.Host(h) }) }
func (t *tee) End(s Summary) error {
	return t.each(true, func(k Sink) error { return k.End(s) })
}
