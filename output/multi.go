package output

import (
	"errors"

	"github.com/portscan/portscan/scanner"
)

// Multi returns a Writer that passes every event to each of ws, as nmap
// writes its normal output to the terminal and -oX to a file in one run.
// Every writer gets every event even when another fails; the errors are
// joined.
func Multi(ws ...Writer) Writer { return multi(ws) }

type multi []Writer

func (m multi) each(f func(Writer) error) error {
	var errs []error
	for _, w := range m {
		if err := f(w); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m multi) Begin(i Info) error {
	return m.each(func(w Writer) error { return w.Begin(i) })
}

func (m multi) Port(r scanner.Result) error {
	return m.each(func(w Writer) error { return w.Port(r) })
}

func (m multi) Host(h scanner.Host) error {
	return m.each(func(w Writer) error { return w.Host(h) })
}

func (m multi) End(s scanner.Stats) error {
	return m.each(func(w Writer) error { return w.End(s) })
}
