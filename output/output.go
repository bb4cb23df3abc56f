package output

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/portscan/portscan/result"
)

// ErrFormat is returned, wrapped with the name asked for, by New for a
// format it does not know.
var ErrFormat = errors.New("unknown output format")

// ErrEnded is returned by a Writer's methods once End has been called:
// the document is closed and cannot take more events.
var ErrEnded = errors.New("output already ended")

// Writer is an output format: a [result.Sink] that writes every event
// through before its method returns, so an interrupted run keeps
// everything already reported. Port and Host may interleave across
// hosts in any order. End writes whatever hosts are still open, the run
// summary, and closes the document; it is also the way out of an
// interrupted run (Summary.Interrupted): the output stays well formed.
// A Writer is safe for concurrent use.
type Writer = result.Sink

// Options tune what a Writer shows. The zero value is usable.
type Options struct {
	// Show lists the port states whose ports are reported one by one; the
	// others are only counted. Nil means DefaultShow.
	Show map[result.State]bool

	// ShowAll names the states whose ports are listed every one, never
	// folded by Collapse: those the user asked for by name. A state in
	// ShowAll is shown whatever Show says.
	ShowAll map[result.State]bool

	// Color makes text output colour port states with ANSI codes.
	Color bool

	// Lang picks the description language of text output, "zh" or "en";
	// empty means Info.Lang, and English if that is empty too.
	Lang string

	// Reason adds a REASON column to text output and the reason to host
	// lines.
	Reason bool

	// ShowDown makes text and XML list hosts found down, a block or a
	// <host> each; otherwise text counts them (or, for a lone target,
	// notes that it seems down) and XML counts them in its runstats, as
	// nmap does without -v. jsonl and json list every host whatever it
	// says: programs read them.
	ShowDown bool

	// Stylesheet is the href of the XSL stylesheet that XML output names
	// in an xml-stylesheet processing instruction, as nmap does, so that
	// a browser opening the file renders it as a report; empty writes
	// none. [LocalStylesheet] finds the nmap.xsl of an installed nmap,
	// and nmapxml.WebStylesheet is the copy on nmap.org.
	Stylesheet string

	// Title is the title of an html page; empty means "portscan
	// report".
	Title string

	// Collapse is how many ports of one state, other than open and those
	// in ShowAll, text and XML output list for one host before they fold
	// the whole state into the "Not shown" count, the way nmap treats
	// ignored states; text says when it folded. Zero means
	// DefaultCollapse; a negative value lists every shown port.
	Collapse int
}

// DefaultCollapse is the Collapse threshold used when Options.Collapse is
// zero; it is nmap's.
const DefaultCollapse = 25

// DefaultShow returns the states shown when Options.Show is nil: open and
// open|filtered. The latter is nmap's "possibly open", and the usual
// result of a UDP probe to a service that ignores an empty datagram;
// connect scans never produce it.
func DefaultShow() map[result.State]bool {
	return map[result.State]bool{result.Open: true, result.OpenFiltered: true}
}

func (o *Options) shows(s result.State) bool {
	if o.ShowAll[s] {
		return true
	}
	if o.Show == nil {
		return s == result.Open || s == result.OpenFiltered
	}
	return o.Show[s]
}

func (o *Options) collapse() int {
	if o.Collapse == 0 {
		return DefaultCollapse
	}
	return o.Collapse
}

// folds reports whether n listed ports of state s on one host are
// folded into the "Not shown" count.
func (o *Options) folds(s result.State, n int) bool {
	limit := o.collapse()
	return limit >= 0 && s != result.Open && !o.ShowAll[s] && n > limit
}

// Formats lists the format names New accepts.
func Formats() []string { return []string{"text", "jsonl", "json", "csv", "xml", "grepable", "html"} }

// Known reports whether New accepts format, so that a caller can refuse
// a bad one before it creates the file the Writer would write to.
func Known(format string) bool {
	for _, f := range Formats() {
		if strings.EqualFold(f, format) {
			return true
		}
	}
	return false
}

// New returns a Writer for format ("text", "jsonl", "json", "csv",
// "xml", "grepable" or "html") that writes to w.
func New(format string, w io.Writer, opt Options) (Writer, error) {
	var f formatter
	switch strings.ToLower(format) {
	case "text":
		f = newText(w, opt)
	case "jsonl":
		f = newJSONL(w, opt)
	case "json":
		f = newJSON(w, opt)
	case "csv":
		f = newCSV(w, opt)
	case "xml":
		f = newXML(w, opt)
	case "grepable":
		f = newGrepable(w, opt)
	case "html":
		f = newHTML(w, opt)
	default:
		return nil, fmt.Errorf("%w %q: want one of %s", ErrFormat, format, strings.Join(Formats(), ", "))
	}
	return &guard{f: f}, nil
}

// formatter is what each format implements; guard adds locking, the
// begin-once and end-once rules, and sticky write errors.
type formatter interface {
	begin(result.Info) error
	port(result.Port) error
	host(result.Host) error
	end(result.Summary) error
}

type guard struct {
	mu     sync.Mutex
	f      formatter
	begun  bool
	ended  bool
	failed error
}

func (g *guard) run(fn func() error) error {
	if g.ended {
		return ErrEnded
	}
	if g.failed != nil {
		return g.failed
	}
	if err := fn(); err != nil {
		g.failed = err
		return err
	}
	return nil
}

// start runs Begin with an empty Info if an event arrives before it, so
// that a document is always opened before it is written to.
func (g *guard) start() error {
	if g.begun {
		return nil
	}
	g.begun = true
	return g.f.begin(result.Info{})
}

func (g *guard) Begin(info result.Info) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begun && !g.ended {
		return nil
	}
	return g.run(func() error {
		g.begun = true
		return g.f.begin(info)
	})
}

func (g *guard) Port(r result.Port) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.run(func() error {
		if err := g.start(); err != nil {
			return err
		}
		return g.f.port(r)
	})
}

func (g *guard) Host(h result.Host) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.run(func() error {
		if err := g.start(); err != nil {
			return err
		}
		return g.f.host(h)
	})
}

func (g *guard) End(s result.Summary) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.run(func() error {
		if err := g.start(); err != nil {
			return err
		}
		return g.f.end(s)
	})
	g.ended = true
	return err
}
