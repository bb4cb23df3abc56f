package services

import (
	"bytes"
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/portscan/portscan/data"
	"github.com/portscan/portscan/ports"
)

// ranked is one line of the port ranking.
type ranked struct {
	port ports.Port
	tier int
	name string
	line int
}

// ranking is data/top-ports.tsv, parsed on first use.
var ranking = sync.OnceValue(func() []ranked {
	r, err := parseRanking(bytes.NewReader(data.TopPortsTSV), "top-ports.tsv")
	if err != nil {
		// The embedded file is checked by the tests.
		panic("services: built-in ranking: " + err.Error())
	}
	return r
})

// parseRanking reads the ranking format of data/top-ports.tsv: lines of
// port/protocol, tier and service name, in rank order.
func parseRanking(r io.Reader, source string) ([]ranked, error) {
	lr := newLineReader(r, source)
	var out []ranked
	seen := make(map[ports.Port]bool)
	for {
		line, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, lr.errf("want 3 tab-separated fields (port/protocol, tier, name), got %d", len(f))
		}
		if !strings.Contains(f[0], "/") {
			return nil, lr.errf("port %q: want number/protocol", f[0])
		}
		protos, num, _, err := parsePortField(f[0])
		if err != nil {
			return nil, lr.errf("%v", err)
		}
		tier, err := strconv.Atoi(f[1])
		if err != nil || tier < 1 {
			return nil, lr.errf("invalid tier %q: want a number from 1", f[1])
		}
		if err := checkName(f[2]); err != nil {
			return nil, lr.errf("%v", err)
		}
		p := ports.Port{Number: num, Proto: protos[0]}
		if seen[p] {
			return nil, lr.errf("%v listed twice", p)
		}
		seen[p] = true
		out = append(out, ranked{port: p, tier: tier, name: f[2], line: lr.n})
	}
}

// Top returns the n highest-ranked ports of proto, for --top-ports: the
// ports data/top-ports.tsv ranks, in its order, then the built-in
// catalog's other ports of proto in ascending order. With n past the
// catalog's ports of proto, it returns them all.
func Top(proto ports.Protocol, n int) []ports.Port {
	var out []ports.Port
	seen := make(map[ports.Port]bool)
	for _, r := range ranking() {
		if len(out) == n {
			return out
		}
		if r.port.Proto == proto {
			out = append(out, r.port)
			seen[r.port] = true
		}
	}
	var tail []ports.Port
	for e := range Default().All() {
		if e.Port.Proto == proto && !seen[e.Port] {
			seen[e.Port] = true
			tail = append(tail, e.Port)
		}
	}
	slices.SortFunc(tail, func(a, b ports.Port) int { return cmp.Compare(a.Number, b.Number) })
	return append(out, tail[:min(len(tail), max(0, n-len(out)))]...)
}
