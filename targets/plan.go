package targets

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"sort"
)

// maxRuns is the largest number of contiguous ranges an octet pattern is
// split into for the sweep; bigger patterns are checked address by address.
// Tests lower it to reach that path with small patterns.
var maxRuns uint64 = 4096

// unit is one step of the iteration order besides the IPv4 literals: a
// spec, or one resolved address of a host name.
type unit struct {
	pat   *pattern // a large octet pattern, or nil
	err   error    // a name that did not resolve, or nil
	name  string   // the host name the addresses come from
	named u128     // the address the name resolved to
	at    int      // how many literals come before it
}

// owned is a span and the unit or literal that yields it. Who comes
// first is told by rank, then seq: unit u has rank 2*at and seq u,
// literal i has rank 2*i+1 and seq -1-i, so a unit added after i
// literals comes after literal i-1 and before literal i.
type owned struct {
	span
	rank, seq int
}

func (o owned) before(p owned) bool {
	return o.rank < p.rank || o.rank == p.rank && o.seq < p.seq
}

// litOwner returns the owner key of literal i.
func litOwner(i int) owned { return owned{rank: 2*i + 1, seq: -1 - i} }

// unitOwner returns the owner key of unit u.
func (p *plan) unitOwner(u int) owned { return owned{rank: 2 * p.units[u].at, seq: u} }

// plan is what iteration needs, computed from the specs once names are
// resolved: each unit's own addresses, with duplicates and exclusions
// already cut out of the contiguous ranges. The IPv4 literals need no
// such work, being disjoint already, except where they meet a unit's
// addresses: there the sweep decides too.
type plan struct {
	lits     *litList
	seen4    *set4
	units    []unit
	segs     []owned    // what each unit yields, sorted by (seq, address)
	all      []owned    // before exclusion: the owner of each address a unit names, sorted by address
	excl     []span     // merged exclusions
	own4     []owned    // before exclusion: the owner of each IPv4 address a unit names
	excl4    []span     // merged IPv4 exclusions
	exclPats []*pattern // large excluded patterns
	pats     []int      // seqs of units with a large pattern
	warnings []error    // excluded names that did not resolve
}

func (s *Set) plan(ctx context.Context) (*plan, error) {
	if err := s.resolveAll(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil {
		return s.cached, nil
	}

	p := &plan{lits: &s.lits, seen4: &s.seen4, units: make([]unit, 0, len(s.specs))}
	var in []owned
	add := func(sn span) {
		in = append(in, owned{sn, 2 * p.units[len(p.units)-1].at, len(p.units) - 1})
	}
	for _, sp := range s.specs {
		switch sp.kind {
		case kindRange:
			p.units = append(p.units, unit{at: sp.at})
			add(span{sp.space, sp.first, sp.last})
		case kindPattern:
			p.units = append(p.units, unit{pat: sp.pat, at: sp.at})
			p.pats = append(p.pats, len(p.units)-1)
		case kindName:
			r := s.resolved[sp.name]
			if r.err != nil {
				p.units = append(p.units, unit{err: r.err, name: sp.name, at: sp.at})
				continue
			}
			addrs := r.addrs
			if !s.opts.AllAddresses {
				addrs = addrs[:1]
			}
			for _, a := range addrs {
				sn, err := nameSpan(sp.Spec, a)
				if err != nil {
					p.units = append(p.units, unit{err: err, name: sp.name, at: sp.at})
					continue
				}
				p.units = append(p.units, unit{name: sp.name, named: fromAddr(a), at: sp.at})
				add(sn)
			}
		}
	}
	in = append(in, p.litsMet(in)...)

	excl := merge(s.exclusions(p))
	all := sweep(in)
	p.all, p.excl = all, excl
	p.own4 = all[:countV4(len(all), func(i int) span { return all[i].span })]
	p.excl4 = excl[:countV4(len(excl), func(i int) span { return excl[i] })]
	p.segs = slices.DeleteFunc(subtract(all, excl), func(o owned) bool { return o.seq < 0 })
	slices.SortStableFunc(p.segs, func(a, b owned) int { return cmp.Compare(a.seq, b.seq) })
	s.cached = p
	return p, nil
}

// exclusions returns the spans the set's exclusions take; large
// patterns go to p.exclPats, and names that do not resolve to
// p.warnings.
func (s *Set) exclusions(p *plan) []span {
	var ex []span
	for _, sp := range s.excluded {
		switch sp.kind {
		case kindRange:
			ex = append(ex, span{sp.space, sp.first, sp.last})
		case kindPattern:
			if sp.pat.runs() <= maxRuns {
				sp.pat.spans(func(a, b uint32) {
					ex = append(ex, span{space{}, u128{0, uint64(a)}, u128{0, uint64(b)}})
				})
			} else {
				p.exclPats = append(p.exclPats, sp.pat)
			}
		case kindName:
			r := s.resolved[sp.name]
			if r.err != nil {
				p.warnings = append(p.warnings, fmt.Errorf("exclusion: %w", r.err))
				continue
			}
			for _, a := range r.addrs {
				sn, err := nameSpan(sp, a)
				if err != nil {
					p.warnings = append(p.warnings, fmt.Errorf("exclusion: %w", err))
					continue
				}
				ex = append(ex, sn)
			}
		}
	}
	return ex
}

// litsMet returns the parts of the literals that meet the IPv4 spans of
// units (in) or a large pattern after them, each owned by its literal,
// for the sweep to weigh against the units. It walks the literals once,
// and only when some unit names IPv4 addresses.
func (p *plan) litsMet(in []owned) []owned {
	var u []span
	for _, o := range in {
		if !o.v6 {
			u = append(u, o.span)
		}
	}
	if len(u) == 0 && len(p.pats) == 0 {
		return nil
	}
	u = merge(u)
	lastPat := -1 // the literals before it may meet a large pattern
	if len(p.pats) > 0 {
		lastPat = p.units[p.pats[len(p.pats)-1]].at
	}
	var out []owned
	c := litCursor{l: p.lits}
	for range p.lits.len() {
		i, l := c.next()
		o := litOwner(i)
		if i < lastPat && slices.ContainsFunc(p.pats, func(k int) bool {
			return i < p.units[k].at && p.units[k].pat.countIn(l.first, l.last) > 0
		}) {
			o.span = span{space{}, u128{0, uint64(l.first)}, u128{0, uint64(l.last)}}
			out = append(out, o)
			continue
		}
		first, last := u128{0, uint64(l.first)}, u128{0, uint64(l.last)}
		j := sort.Search(len(u), func(j int) bool { return u[j].last.cmp(first) >= 0 })
		for ; j < len(u) && u[j].first.cmp(last) <= 0; j++ {
			o.span = span{space{}, maxU(first, u[j].first), minU(last, u[j].last)}
			out = append(out, o)
		}
	}
	return out
}

func maxU(a, b u128) u128 {
	if a.cmp(b) >= 0 {
		return a
	}
	return b
}

func minU(a, b u128) u128 {
	if a.cmp(b) <= 0 {
		return a
	}
	return b
}

// nameSpan returns the addresses a resolved host name stands for: the
// address itself, or the prefix written after the name.
func nameSpan(sp Spec, a netip.Addr) (span, error) {
	x := fromAddr(a)
	s := space{v6: a.Is6(), zone: a.Zone()}
	if sp.bits < 0 {
		return span{s, x, x}, nil
	}
	if !s.v6 && sp.bits > 32 {
		return span{}, fmt.Errorf("%w %q: prefix length %d out of range 0-32 for IPv4 address %s", ErrSpec, sp.text, sp.bits, a)
	}
	first, last := prefixRange(x, s.v6, sp.bits)
	return span{s, first, last}, nil
}

// countV4 returns how many of the leading spans, sorted by space, are IPv4.
func countV4(n int, at func(int) span) int {
	return sort.Search(n, func(i int) bool { return at(i).v6 })
}

// sweep cuts the spans of in into disjoint segments, each given to the
// lowest seq among the spans covering it, sorted by address. Adjacent
// segments with the same owner are joined.
func sweep(in []owned) []owned {
	slices.SortFunc(in, func(a, b owned) int { return a.span.cmp(b.span) })
	var out []owned
	var h seqHeap
	for start := 0; start < len(in); {
		sp := in[start].space
		end := start
		for end < len(in) && in[end].space == sp {
			end++
		}
		group := in[start:end]
		start = end

		top := maxOf(sp.v6)
		bounds := make([]u128, 0, 2*len(group))
		for _, o := range group {
			bounds = append(bounds, o.first)
			if o.last != top {
				bounds = append(bounds, o.last.add1())
			}
		}
		slices.SortFunc(bounds, u128.cmp)
		bounds = slices.Compact(bounds)

		h = h[:0]
		j := 0
		for k, b := range bounds {
			for j < len(group) && group[j].first.cmp(b) <= 0 {
				h.push(group[j])
				j++
			}
			for len(h) > 0 && h[0].last.cmp(b) < 0 {
				h.pop()
			}
			if len(h) == 0 {
				continue
			}
			last := top
			if k+1 < len(bounds) {
				last = bounds[k+1].sub1()
			}
			owner := h[0]
			if n := len(out); n > 0 && out[n-1].seq == owner.seq && out[n-1].space == sp && out[n-1].last.add1() == b {
				out[n-1].last = last
			} else {
				out = append(out, owned{span{sp, b, last}, owner.rank, owner.seq})
			}
		}
	}
	return out
}

// seqHeap is a binary min-heap of spans by owner, the first on top.
type seqHeap []owned

func (h *seqHeap) push(o owned) {
	*h = append(*h, o)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(s[p]) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *seqHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].before(s[m]) {
			m = l
		}
		if l+1 < n && s[l+1].before(s[m]) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
}

// merge returns the union of spans as disjoint spans sorted by address,
// joining those that touch.
func merge(spans []span) []span {
	slices.SortFunc(spans, span.cmp)
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if prev.space == s.space && (prev.last == maxOf(s.v6) || prev.last.add1().cmp(s.first) >= 0) {
				if s.last.cmp(prev.last) > 0 {
					prev.last = s.last
				}
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// subtract cuts the merged spans excl out of segs.
func subtract(segs []owned, excl []span) []owned {
	out := make([]owned, 0, len(segs))
	for _, s := range segs {
		i := sort.Search(len(excl), func(i int) bool {
			c := excl[i].space.cmp(s.space)
			return c > 0 || c == 0 && excl[i].last.cmp(s.first) >= 0
		})
		cur, done := s.first, false
		for ; i < len(excl) && excl[i].space == s.space && excl[i].first.cmp(s.last) <= 0; i++ {
			e := excl[i]
			if e.first.cmp(cur) > 0 {
				out = append(out, owned{span{s.space, cur, e.first.sub1()}, s.rank, s.seq})
			}
			if e.last.cmp(s.last) >= 0 {
				done = true
				break
			}
			cur = e.last.add1()
		}
		if !done {
			out = append(out, owned{span{s.space, cur, s.last}, s.rank, s.seq})
		}
	}
	return out
}

// find returns the index of the span holding a among n sorted, disjoint
// spans of one space, or -1.
func find(n int, at func(int) span, a u128) int {
	i := sort.Search(n, func(i int) bool { return at(i).last.cmp(a) >= 0 })
	if i < n && at(i).first.cmp(a) <= 0 {
		return i
	}
	return -1
}

// patternSkips reports whether an IPv4 address yielded by who was named
// before by a large pattern, or is excluded by one.
func (p *plan) patternSkips(a uint32, who owned) bool {
	for _, q := range p.exclPats {
		if q.contains(a) {
			return true
		}
	}
	for _, k := range p.pats {
		if !p.unitOwner(k).before(who) {
			break
		}
		if p.units[k].pat.contains(a) {
			return true
		}
	}
	return false
}

// needsCheck reports whether IPv4 addresses yielded by who must go
// through patternSkips.
func (p *plan) needsCheck(who owned) bool {
	return len(p.exclPats) > 0 || len(p.pats) > 0 && p.unitOwner(p.pats[0]).before(who)
}

// litPieces calls f with the parts of literal i that it yields, but for
// large patterns: what exclusions and earlier units leave of it, in
// ascending order, until f returns false.
func (p *plan) litPieces(i int, l lit4, f func(a, b uint32) bool) bool {
	me := litOwner(i).seq
	a, b := uint64(l.first), uint64(l.last)
	e := sort.Search(len(p.excl4), func(k int) bool { return p.excl4[k].last.lo >= a })
	o := sort.Search(len(p.own4), func(k int) bool { return p.own4[k].last.lo >= a })
	cur := a
	for cur <= b {
		for o < len(p.own4) && p.own4[o].seq == me {
			o++
		}
		var blk span
		switch {
		case e < len(p.excl4) && p.excl4[e].first.lo <= b && (o >= len(p.own4) || p.excl4[e].first.lo <= p.own4[o].first.lo):
			blk = p.excl4[e]
			e++
		case o < len(p.own4) && p.own4[o].first.lo <= b:
			blk = p.own4[o].span
			o++
		default:
			return f(uint32(cur), uint32(b))
		}
		if blk.first.lo > cur && !f(uint32(cur), uint32(blk.first.lo-1)) {
			return false
		}
		cur = max(cur, blk.last.lo+1)
	}
	return true
}

// ctxEvery is how many addresses pass between two looks at the context.
const ctxEvery = 4096

// All yields the targets of the set in the order their specs were added,
// each address once, skipping exclusions. Host names are resolved first,
// all at once and only once per Set. A name that does not resolve yields a
// Target with only Name set and an error wrapping ErrResolve; iteration
// goes on after it. When ctx is done, All yields ctx.Err() and stops.
func (s *Set) All(ctx context.Context) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		p, err := s.plan(ctx)
		if err != nil {
			yield(Target{}, err)
			return
		}
		for _, w := range p.warnings {
			if !yield(Target{}, w) {
				return
			}
		}
		w := &walk{p: p, ctx: ctx, yield: yield, lit: litCursor{l: p.lits}}
		seg := 0
		for seq, u := range p.units {
			if !w.lits(u.at) {
				return
			}
			who := p.unitOwner(seq)
			switch {
			case u.err != nil:
				if !yield(Target{Name: u.name}, u.err) {
					return
				}
			case u.pat != nil:
				if !w.pattern(u.pat, who) {
					return
				}
			}
			var ok bool
			if seg, ok = w.segs(seg, seq, u, who); !ok {
				return
			}
		}
		w.lits(p.lits.len())
	}
}

// walk is one iteration of All over a plan.
type walk struct {
	p     *plan
	ctx   context.Context
	yield func(Target, error) bool
	lit   litCursor
	n     int // addresses passed, yielded or skipped
}

// step counts an address, yielded or skipped, and looks at ctx now and
// then; it returns false when iteration must stop.
func (w *walk) step() bool {
	w.n++
	if w.n%ctxEvery == 0 && w.ctx.Err() != nil {
		w.yield(Target{}, w.ctx.Err())
		return false
	}
	return true
}

// lits yields the IPv4 literals up to the literal numbered to.
func (w *walk) lits(to int) bool {
	p := w.p
	for w.lit.i < to {
		if !w.step() {
			return false
		}
		li, l := w.lit.next()
		who := litOwner(li)
		check := p.needsCheck(who)
		ok := p.litPieces(li, l, func(a, b uint32) bool {
			for x := a; ; x++ {
				if !w.step() {
					return false
				}
				if !(check && p.patternSkips(x, who)) {
					if !w.yield(Target{Addr: u128{0, uint64(x)}.addr(false, "")}, nil) {
						return false
					}
				}
				if x == b {
					return true
				}
			}
		})
		if !ok {
			return false
		}
	}
	return true
}

// pattern yields the addresses of an octet pattern of spec who that no
// exclusion, earlier pattern or earlier literal takes.
func (w *walk) pattern(pat *pattern, who owned) bool {
	p := w.p
	own4 := func(i int) span { return p.own4[i].span }
	excl4 := func(i int) span { return p.excl4[i] }
	return pat.all(func(a uint32) bool {
		if !w.step() {
			return false
		}
		x := u128{0, uint64(a)}
		if find(len(p.excl4), excl4, x) >= 0 || p.patternSkips(a, who) {
			return true
		}
		if i := find(len(p.own4), own4, x); i >= 0 && p.own4[i].before(who) {
			return true
		}
		return w.yield(Target{Addr: x.addr(false, "")}, nil)
	})
}

// segs yields the segments of unit seq, from segment j on; it returns
// the index of the next unit's first segment.
func (w *walk) segs(j, seq int, u unit, who owned) (int, bool) {
	p := w.p
	check := p.needsCheck(who)
	for ; j < len(p.segs) && p.segs[j].seq == seq; j++ {
		sg := p.segs[j]
		for x := sg.first; ; x = x.add1() {
			if !w.step() {
				return j, false
			}
			if !(check && !sg.v6 && p.patternSkips(uint32(x.lo), who)) {
				t := Target{Addr: x.addr(sg.v6, sg.zone)}
				if u.name != "" && x == u.named {
					t.Name = u.name
				}
				if !w.yield(t, nil) {
					return j, false
				}
			}
			if x == sg.last {
				break
			}
		}
	}
	return j, true
}

// Contains reports whether All yields a: whether a spec of the set names
// it and no exclusion removes it. It does not walk the set, so it costs
// the same for a /8 as for one host. Host names are resolved as for All,
// once per Set; a name that does not resolve names nothing. The error is
// ctx's, if it ends before names are resolved.
func (s *Set) Contains(ctx context.Context, a netip.Addr) (bool, error) {
	p, err := s.plan(ctx)
	if err != nil {
		return false, err
	}
	sp, x := space{v6: a.Is6(), zone: a.Zone()}, fromAddr(a)
	in := func(n int, at func(int) span) bool {
		i := sort.Search(n, func(i int) bool {
			c := at(i).space.cmp(sp)
			return c > 0 || c == 0 && at(i).last.cmp(x) >= 0
		})
		return i < n && at(i).space == sp && at(i).first.cmp(x) <= 0
	}
	if in(len(p.excl), func(i int) span { return p.excl[i] }) {
		return false, nil
	}
	if !sp.v6 {
		for _, q := range p.exclPats {
			if q.contains(uint32(x.lo)) {
				return false, nil
			}
		}
		if p.seen4.contains(uint32(x.lo)) {
			return true, nil
		}
		for _, k := range p.pats {
			if p.units[k].pat.contains(uint32(x.lo)) {
				return true, nil
			}
		}
	}
	return in(len(p.all), func(i int) span { return p.all[i].span }), nil
}

// Count returns how many addresses All yields, saturated at
// math.MaxUint64 (an IPv6 /64 alone has 2^64), for progress reports. It
// resolves host names, once per Set, so a later All does not look them up
// again. The count is exact except when large octet patterns (see the
// package comment) overlap one another, where it may be slightly off
// (ExactCount is exact). The error is ctx's, if it ends before names are
// resolved.
func (s *Set) Count(ctx context.Context) (uint64, error) {
	p, err := s.plan(ctx)
	if err != nil {
		return 0, err
	}
	var n uint64
	// less takes from c what large patterns before who remove of [a, b].
	less := func(c uint64, a, b uint32, who owned) uint64 {
		for _, q := range p.exclPats {
			c -= min(c, q.countIn(a, b))
		}
		for _, k := range p.pats {
			if p.unitOwner(k).before(who) {
				c -= min(c, p.units[k].pat.countIn(a, b))
			}
		}
		return c
	}
	c := litCursor{l: p.lits}
	for range p.lits.len() {
		i, l := c.next()
		who := litOwner(i)
		check := p.needsCheck(who)
		p.litPieces(i, l, func(a, b uint32) bool {
			c := uint64(b) - uint64(a) + 1
			if check {
				c = less(c, a, b, who)
			}
			n = satAdd(n, c)
			return true
		})
	}
	for _, sg := range p.segs {
		c := size(sg.first, sg.last)
		if who := p.unitOwner(sg.seq); !sg.v6 && p.needsCheck(who) {
			c = less(c, uint32(sg.first.lo), uint32(sg.last.lo), who)
		}
		n = satAdd(n, c)
	}
	for _, k := range p.pats {
		pat, who := p.units[k].pat, p.unitOwner(k)
		c := pat.size()
		var gone []span
		gone = append(gone, p.excl4...)
		for _, o := range p.own4 {
			if o.before(who) {
				gone = append(gone, o.span)
			}
		}
		for _, g := range merge(gone) {
			c -= min(c, pat.countIn(uint32(g.first.lo), uint32(g.last.lo)))
		}
		for _, q := range p.exclPats {
			both := pat.and(q)
			c -= min(c, both.size())
		}
		for _, k2 := range p.pats {
			if k2 < k {
				both := pat.and(p.units[k2].pat)
				c -= min(c, both.size())
			}
		}
		n = satAdd(n, c)
	}
	return n, nil
}

// ExactCount returns how many addresses All yields, exactly, as a scan
// split into shards must know it (every shard numbers the same
// targets). It is Count, but when two or more large octet patterns
// (targets or exclusions; see the package comment) may overlap, where
// Count's sums are not exact: it then walks All once, counting. That
// costs the time of the walk (about 60 ns an address: a second for the
// 16.7 million addresses of a /8 named by two overlapping patterns,
// BenchmarkExactCountSlash8) and no memory. Names that do not resolve are
// not counted, as All yields no address for them. The error is ctx's.
func (s *Set) ExactCount(ctx context.Context) (uint64, error) {
	p, err := s.plan(ctx)
	if err != nil {
		return 0, err
	}
	if len(p.pats)+len(p.exclPats) <= 1 {
		return s.Count(ctx)
	}
	var n uint64
	for _, err := range s.All(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			continue
		}
		n++
	}
	return n, nil
}
