package output

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/result"
)

// A run that stops and is resumed in another process goes on writing
// the documents it began: at a checkpoint Snapshot takes what a Writer
// holds besides the bytes it wrote, and in the next run Continue makes
// a Writer that goes on from there, written after those bytes, without
// the document's head. Restore gives it back the ports already
// reported of the hosts that were in flight, so that the record each
// of them gets when its Host event comes counts every port.

// ErrState is returned, wrapped, by Continue for a State it cannot go
// on from.
var ErrState = errors.New("invalid output state")

// State is what a Writer holds of its document besides the bytes it
// wrote: all that Continue needs to go on with it. It is small: a text
// report's hosts held back for target order (at most a thousand or so)
// are its largest part.
type State struct {
	Format string `json:"format"`
	// Hosts counts the host objects a json document holds.
	Hosts int `json:"hosts,omitempty"`
	// Text is what a text report holds back.
	Text *TextState `json:"text,omitempty"`
	// HTML is what an html page holds for its end.
	HTML *HTMLState `json:"html,omitempty"`
}

// TextState is what a text report holds until its end: the hosts found
// down that it counts, the tarpits, and the reports of finished hosts
// that wait for an earlier one, to come out in target order.
type TextState struct {
	Down       map[string]int `json:"down,omitempty"`      // hosts found down and not listed, by reason
	DownNote   string         `json:"down_note,omitempty"` // the note on the last of them, for a lone target
	Tarpits    int            `json:"tarpits,omitempty"`
	TarpitOpen int            `json:"tarpit_open,omitempty"`
	Held       []HeldReport   `json:"held,omitempty"` // in target order
}

// HeldReport is the report of a finished host that a text report holds
// back until the hosts before it in the targets are written.
type HeldReport struct {
	Index uint64 `json:"index"` // result.Host.Index
	Text  string `json:"text"`  // the report, as written
	// Down is set for a host found down and not listed, which is only
	// counted, with its reason; DownNote is its note as a lone target.
	Down     bool   `json:"down,omitempty"`
	Reason   string `json:"reason,omitempty"`
	DownNote string `json:"down_note,omitempty"`
	// Tarpit is set for a host flagged as a tarpit, with its open ports.
	Tarpit bool `json:"tarpit,omitempty"`
	Open   int  `json:"open,omitempty"`
}

// Settled is what a Writer was given of a host whose Host event had not
// come when its run stopped: its ports reported so far. Restore gives
// them back to a continued Writer.
type Settled struct {
	Addr     netip.Addr
	Hostname string
	Source   string
	// Listed are the ports Options.Lists lists, and any that carry
	// detection or evidence, as reported.
	Listed []result.Port
	// Hidden counts the others by state and reason.
	Hidden []Hidden
}

// Hidden counts a host's ports of one state and reason that are not
// listed one by one.
type Hidden struct {
	State  result.State
	Reason string
	Count  int
	// RTT is the sum of the round trip times of the Answered of them
	// that had one; First and Last bound the times they were settled.
	RTT         time.Duration
	Answered    int
	First, Last time.Time
}

// Lists reports whether the ports of state s are listed one by one, in
// every format (the others are counted; text and XML may fold listed
// ones into the count too).
func (o *Options) Lists(s result.State) bool { return o.shows(s) }

// continuer is what each format implements to go on in another run.
type continuer interface {
	// resume sets the formatter up as begin would have, without
	// writing, and from st.
	resume(info result.Info, st State) error
	snapshot() State
	restore(Settled)
}

// Continue returns a Writer for format that goes on writing, to w, the
// document a Writer for that format and info began and st was taken
// of: its head is not written again, and its End closes the document.
// w must be positioned at the end of what that Writer had written when
// st was taken.
func Continue(format string, w io.Writer, opt Options, info result.Info, st State) (Writer, error) {
	if !strings.EqualFold(st.Format, format) {
		return nil, fmt.Errorf("%w: taken of a %q output, not %q", ErrState, st.Format, format)
	}
	wr, err := New(format, w, opt)
	if err != nil {
		return nil, err
	}
	g := wr.(*guard)
	if err := g.f.(continuer).resume(info, st); err != nil {
		return nil, err
	}
	g.begun = true
	return g, nil
}

// Snapshot returns what w holds of its document besides the bytes it
// wrote, for Continue. w must come from New or Continue, be begun and
// not ended or failed.
func Snapshot(w Writer) (State, error) {
	g, ok := w.(*guard)
	if !ok {
		return State{}, fmt.Errorf("%w: not a Writer of package output", ErrState)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.ended:
		return State{}, ErrEnded
	case g.failed != nil:
		return State{}, g.failed
	case !g.begun:
		return State{}, fmt.Errorf("%w: the output has not begun", ErrState)
	}
	return g.f.(continuer).snapshot(), nil
}

// Restore gives back to w, a Writer from Continue, the ports reported
// of one host in flight when the run that began the document stopped:
// they count as reported, and those a format writes as they come
// (jsonl's lines, csv's rows) are not written again.
func Restore(w Writer, s Settled) error {
	g, ok := w.(*guard)
	if !ok {
		return fmt.Errorf("%w: not a Writer of package output", ErrState)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.run(func() error {
		g.f.(continuer).restore(s)
		return nil
	})
}

// restore adds s to b, as its Port events would have; show says which
// listed ports b lists.
func (b *hostBuf) restore(s Settled, show func(result.State) bool) {
	for _, r := range s.Listed {
		b.add(r, show(r.State))
	}
	for _, h := range s.Hidden {
		if h.Count <= 0 {
			continue
		}
		b.hide(h.State, h.Reason, h.Count)
		b.rttSum += h.RTT
		b.rttN += h.Answered
		for _, t := range []time.Time{h.First, h.Last} {
			if t.IsZero() {
				continue
			}
			if b.first.IsZero() || t.Before(b.first) {
				b.first = t
			}
			if t.After(b.last) {
				b.last = t
			}
		}
	}
	if b.source == "" {
		b.source = s.Source
	}
}

func never(result.State) bool { return false }

func (j *jsonlWriter) resume(info result.Info, _ State) error {
	j.shard = shardIndex(info)
	return nil
}
func (j *jsonlWriter) snapshot() State { return State{Format: "jsonl"} }
func (j *jsonlWriter) restore(s Settled) {
	j.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, never) // counted only: the lines are written
}

func (j *jsonWriter) resume(info result.Info, st State) error {
	if st.Hosts < 0 {
		return fmt.Errorf("%w: %d hosts", ErrState, st.Hosts)
	}
	j.shard = shardIndex(info)
	j.nhosts = st.Hosts
	return nil
}
func (j *jsonWriter) snapshot() State { return State{Format: "json", Hosts: j.nhosts} }
func (j *jsonWriter) restore(s Settled) {
	j.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, j.opt.shows)
}

func (c *csvWriter) resume(result.Info, State) error { return nil }
func (c *csvWriter) snapshot() State                 { return State{Format: "csv"} }
func (c *csvWriter) restore(Settled)                 {} // its rows are written

func (g *grepWriter) resume(result.Info, State) error { return nil }
func (g *grepWriter) snapshot() State                 { return State{Format: "grepable"} }
func (g *grepWriter) restore(s Settled) {
	g.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, g.opt.shows)
}

func (x *xmlWriter) resume(info result.Info, _ State) error {
	x.setup(info)
	// Inside <nmaprun>, which the encoder has not seen opened: it
	// indents as if at depth one, and the closing tag is written by
	// hand.
	x.enc.Indent("  ", "  ")
	x.resumed = true
	return nil
}
func (x *xmlWriter) snapshot() State { return State{Format: "xml"} }
func (x *xmlWriter) restore(s Settled) {
	x.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, x.opt.shows)
}

func (t *textWriter) resume(info result.Info, st State) error {
	t.setup(info)
	ts := st.Text
	if ts == nil {
		return nil
	}
	for r, n := range ts.Down {
		if n < 0 {
			return fmt.Errorf("%w: %d hosts down", ErrState, n)
		}
		t.down.add(r, n)
	}
	if err := checkText(ts.DownNote); err != nil {
		return err
	}
	t.lastNote = ts.DownNote
	t.tarpits, t.tarpitOpen = ts.Tarpits, ts.TarpitOpen
	for i, h := range ts.Held {
		if err := checkText(h.Text); err != nil {
			return err
		}
		if err := checkText(h.DownNote); err != nil {
			return err
		}
		if h.Index == 0 || i > 0 && h.Index <= ts.Held[i-1].Index {
			return fmt.Errorf("%w: held reports out of target order", ErrState)
		}
		t.held = append(t.held, textBlock{index: h.Index, text: []byte(h.Text), down: h.Down, reason: h.Reason,
			note: h.DownNote, tarpit: h.Tarpit, open: h.Open})
	}
	return nil
}

// checkText refuses text that a text report would not have written: it
// goes to the file as it is, so it must not carry control characters.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: held text is not UTF-8", ErrState)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return fmt.Errorf("%w: held text carries control character %U", ErrState, r)
		}
	}
	return nil
}

func (t *textWriter) snapshot() State {
	ts := &TextState{Down: maps.Clone(t.down.reasons), DownNote: t.lastNote, Tarpits: t.tarpits, TarpitOpen: t.tarpitOpen}
	var held []textBlock
	held = append(held, t.held...)
	for _, b := range t.order.waiting {
		held = append(held, b)
	}
	slices.SortFunc(held, func(a, b textBlock) int { return cmp.Compare(a.index, b.index) })
	for _, b := range held {
		ts.Held = append(ts.Held, HeldReport{Index: b.index, Text: string(b.text), Down: b.down, Reason: b.reason,
			DownNote: b.note, Tarpit: b.tarpit, Open: b.open})
	}
	return State{Format: "text", Text: ts}
}

func (t *textWriter) restore(s Settled) {
	t.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, t.opt.shows)
}
