package services

import (
	"iter"
	"maps"
	"strings"

	"github.com/portscan/portscan/ports"
)

// Catalog is a set of entries indexed by port and by name. A Catalog is
// read-only once built and safe for concurrent use.
type Catalog struct {
	entries []*Entry
	byPort  map[ports.Port]*Entry
	byName  map[string][]*Entry
	// specific marks ports whose entry came from a row that named its
	// protocol; such a row wins over a bare-number row for the same port.
	specific map[ports.Port]bool
	notes    map[string]string
	// skipped counts, by protocol, the /etc/services lines left out
	// because they name a protocol the catalog does not hold.
	skipped map[string]int
}

func newCatalog() *Catalog {
	return &Catalog{
		byPort:   make(map[ports.Port]*Entry),
		byName:   make(map[string][]*Entry),
		specific: make(map[ports.Port]bool),
		notes:    make(map[string]string),
	}
}

// add indexes e. specific says whether its row named the protocol.
func (c *Catalog) add(e *Entry, specific bool) {
	c.entries = append(c.entries, e)
	if _, ok := c.byPort[e.Port]; !ok || (specific && !c.specific[e.Port]) {
		c.byPort[e.Port] = e
		c.specific[e.Port] = specific
	}
	c.indexName(e.Name, e)
	for _, a := range e.Aliases {
		c.indexName(a, e)
	}
}

func (c *Catalog) indexName(name string, e *Entry) {
	k := strings.ToLower(name)
	for _, x := range c.byName[k] {
		if x == e {
			return
		}
	}
	c.byName[k] = append(c.byName[k], e)
}

// Skipped reports the lines of an /etc/services catalog that were left
// out because they name a transport protocol portscan does not scan
// (sctp, dccp, ...): how many, by protocol. It is empty for other
// catalogs. The map is the caller's.
func (c *Catalog) Skipped() map[string]int { return maps.Clone(c.skipped) }

// Len returns the number of entries (one per port and protocol).
func (c *Catalog) Len() int { return len(c.entries) }

// Labeler names the service of a port, or returns nil when it knows
// none. A Catalog's Lookup method is one; it is how the scanner, the
// capture analysis and the result readers take their labels.
type Labeler func(ports.Port) *Entry

// Lookup returns the entry that labels p, or nil.
func (c *Catalog) Lookup(p ports.Port) *Entry { return c.byPort[p] }

// ByName returns the entries whose name or alias is name, ignoring case, in
// catalog order.
func (c *Catalog) ByName(name string) []*Entry { return c.byName[strings.ToLower(name)] }

// All yields every entry in catalog order.
func (c *Catalog) All() iter.Seq[*Entry] {
	return func(yield func(*Entry) bool) {
		for _, e := range c.entries {
			if !yield(e) {
				return
			}
		}
	}
}

// Merge returns a catalog holding the entries of every catalog given, the
// earlier ones taking precedence: Lookup answers from the first catalog
// that has the port, and ByName lists the earlier catalogs' entries first.
// All yields every entry of every catalog, earlier catalogs first.
//
// An entry without a description takes the description of a later
// catalog's entry for the same port whose name or alias is the entry's
// name: a user's "ssh 22/tcp" names the service, it does not blank what
// the built-in catalog says of it. Merge copies such entries; the
// catalogs given are not changed.
func Merge(cats ...*Catalog) *Catalog {
	m := newCatalog()
	for i, c := range cats {
		if c == nil {
			continue
		}
		described := make(map[*Entry]*Entry)
		for _, e := range c.entries {
			if d := describe(e, cats[i+1:]); d != nil {
				described[e] = d
				e = d
			}
			m.entries = append(m.entries, e)
			m.indexName(e.Name, e)
			for _, a := range e.Aliases {
				m.indexName(a, e)
			}
		}
		for p, e := range c.byPort {
			if _, ok := m.byPort[p]; !ok {
				if d, ok := described[e]; ok {
					e = d
				}
				m.byPort[p] = e
				m.specific[p] = c.specific[p]
			}
		}
		for k, v := range c.notes {
			if _, ok := m.notes[k]; !ok {
				m.notes[k] = v
			}
		}
	}
	return m
}

// describe returns a copy of e with the descriptions of the first entry in
// later that has e's port and e's name as its name or alias, or nil when e
// has a description of its own or no such entry has one.
func describe(e *Entry, later []*Catalog) *Entry {
	if e.Description != "" || e.DescriptionEn != "" {
		return nil
	}
	for _, c := range later {
		if c == nil {
			continue
		}
		for _, x := range c.ByName(e.Name) {
			if x.Port == e.Port && (x.Description != "" || x.DescriptionEn != "") {
				d := *e
				d.Description, d.DescriptionEn = x.Description, x.DescriptionEn
				return &d
			}
		}
	}
	return nil
}

// Ports resolves a service name or alias to the ports it names, for port
// specifications such as "-p ssh,http".
func (c *Catalog) Ports(name string) []ports.Port {
	es := c.ByName(name)
	out := make([]ports.Port, 0, len(es))
	for _, e := range es {
		out = append(out, e.Port)
	}
	return out
}
