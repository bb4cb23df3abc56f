package output

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// HTMLState is what an html page holds until its end: the counts of its
// summary, chart and heat map, and the rows of finished hosts that wait
// for an earlier one, to come out in target order. Its size is bounded
// as the writer's memory is (see the package doc): the heat map's rows
// are its largest part.
type HTMLState struct {
	Listed   int            `json:"listed,omitempty"` // host groups written
	OpenBy   map[string]int `json:"open_by,omitempty"`
	Services map[string]int `json:"services,omitempty"`
	Others   int            `json:"others,omitempty"`
	// PortHosts counts, by port ("22/tcp"), the hosts that list it open.
	PortHosts map[string]int `json:"port_hosts,omitempty"`
	Heat      []HTMLHeatRow  `json:"heat,omitempty"`
	HeatMore  int            `json:"heat_more,omitempty"`
	Down      map[string]int `json:"down,omitempty"` // hosts found down and not listed, by reason
	Tarpits   int            `json:"tarpits,omitempty"`
	First     time.Time      `json:"first,omitzero"` // the evidence's first and last packets
	Last      time.Time      `json:"last,omitzero"`
	Held      []HeldReport   `json:"held,omitempty"` // Index and Text only, in target order
}

// HTMLHeatRow is a row of the heat map: a host's name as the page
// writes it, and its ports that may be open, by port ("22/tcp") with
// their state.
type HTMLHeatRow struct {
	Index uint64            `json:"index,omitempty"`
	Name  string            `json:"name"`
	Cells map[string]string `json:"cells"`
	More  int               `json:"more,omitempty"`
}

func (h *htmlWriter) snapshot() State {
	st := &HTMLState{Listed: h.listed, OpenBy: map[string]int{}, Services: maps.Clone(h.services), Others: h.others,
		PortHosts: map[string]int{}, HeatMore: h.heatMore, Down: maps.Clone(h.down.reasons), Tarpits: h.tarpits, First: h.first, Last: h.last}
	for p, n := range h.openBy {
		st.OpenBy[p.String()] = n
	}
	for p, n := range h.portHosts {
		st.PortHosts[p.String()] = n
	}
	for _, row := range h.heat {
		r := HTMLHeatRow{Index: row.index, Name: row.name, Cells: map[string]string{}, More: row.more}
		for p, s := range row.cells {
			r.Cells[p.String()] = s.String()
		}
		st.Heat = append(st.Heat, r)
	}
	held := slices.Clone(h.held)
	for _, b := range h.order.waiting {
		held = append(held, b)
	}
	slices.SortFunc(held, func(a, b htmlBlock) int { return cmp.Compare(a.index, b.index) })
	for _, b := range held {
		st.Held = append(st.Held, HeldReport{Index: b.index, Text: string(b.text)})
	}
	return State{Format: "html", HTML: st}
}

func (h *htmlWriter) resume(info result.Info, st State) error {
	h.setup(info)
	hs := st.HTML
	if hs == nil {
		return nil
	}
	bad := func(what string, n int) error { return fmt.Errorf("%w: html %s %d", ErrState, what, n) }
	for _, n := range []int{hs.Listed, hs.Others, hs.HeatMore, hs.Tarpits} {
		if n < 0 {
			return bad("count", n)
		}
	}
	h.listed, h.others, h.heatMore, h.tarpits, h.first, h.last = hs.Listed, hs.Others, hs.HeatMore, hs.Tarpits, hs.First, hs.Last
	for name, n := range hs.OpenBy {
		p, err := ports.ParseProtocol(name)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: html open ports of %q", ErrState, name)
		}
		h.openBy[p] = n
	}
	if len(hs.Services) > htmlMaxServices {
		return bad("services", len(hs.Services))
	}
	for name, n := range hs.Services {
		if err := checkText(name); err != nil || n < 0 {
			return fmt.Errorf("%w: html service %q", ErrState, name)
		}
		h.services[name] = n
	}
	for name, n := range hs.PortHosts {
		p, err := parsePort(name)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: html port %q", ErrState, name)
		}
		h.portHosts[p] = n
	}
	if len(hs.Heat) > htmlHeatHosts {
		return bad("heat map rows", len(hs.Heat))
	}
	for _, r := range hs.Heat {
		if err := checkText(r.Name); err != nil || strings.ContainsRune(r.Name, '\n') || len(r.Cells) > htmlHeatPorts || r.More < 0 {
			return fmt.Errorf("%w: html heat map row %q", ErrState, r.Name)
		}
		row := heatHost{index: r.Index, name: r.Name, cells: map[ports.Port]result.State{}, more: r.More}
		for name, state := range r.Cells {
			p, err := parsePort(name)
			s, serr := result.ParseState(state)
			if err != nil || serr != nil || s != result.Open && s != result.OpenFiltered {
				return fmt.Errorf("%w: html heat map cell %q %q", ErrState, name, state)
			}
			row.cells[p] = s
		}
		h.heat = append(h.heat, row)
	}
	for r, n := range hs.Down {
		if n < 0 {
			return bad("hosts down", n)
		}
		h.down.add(r, n)
	}
	for i, b := range hs.Held {
		if err := checkText(b.Text); err != nil {
			return err
		}
		if b.Index == 0 || i > 0 && b.Index <= hs.Held[i-1].Index {
			return fmt.Errorf("%w: held rows out of target order", ErrState)
		}
		h.held = append(h.held, htmlBlock{index: b.Index, text: []byte(b.Text)})
	}
	return nil
}

func (h *htmlWriter) restore(s Settled) {
	h.hosts.get(hostKey{s.Addr, s.Hostname}).restore(s, h.opt.shows)
}

// parsePort reads a port as Port.String writes it: "22/tcp".
func parsePort(s string) (ports.Port, error) {
	num, proto, ok := strings.Cut(s, "/")
	var n uint16
	if _, err := fmt.Sscan(num, &n); !ok || err != nil || n == 0 || !utf8.ValidString(s) {
		return ports.Port{}, fmt.Errorf("invalid port %q", s)
	}
	p, err := ports.ParseProtocol(proto)
	if err != nil {
		return ports.Port{}, err
	}
	return ports.Port{Number: n, Proto: p}, nil
}
