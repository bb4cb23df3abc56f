package ports

import (
	"errors"
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// ErrUnknownService is returned, wrapped with the name, for a service name
// in a port specification that the catalog does not know. Errors wrapping it
// also match ErrSpec.
var ErrUnknownService = errors.New("unknown service name")

// Set is a set of ports, kept as one 65536-bit bitmap per protocol (8 KiB
// each), so that "-p-" costs no more than "-p 22" and membership, insertion
// and removal take constant time. The zero Set is empty and ready to use. A
// Set is a plain value: assigning it copies it.
type Set struct {
	bits [3][1024]uint64 // indexed by Protocol-1
}

func (s *Set) words(proto Protocol) *[1024]uint64 {
	if proto < TCP || proto > DDP {
		return nil
	}
	return &s.bits[proto-1]
}

// Add puts p into the set. A port on an unknown protocol is ignored.
func (s *Set) Add(p Port) {
	if w := s.words(p.Proto); w != nil {
		w[p.Number>>6] |= 1 << (p.Number & 63)
	}
}

// AddRange puts the ports lo through hi (inclusive) on proto into the set.
// Nothing is added when lo > hi.
func (s *Set) AddRange(proto Protocol, lo, hi uint16) {
	w := s.words(proto)
	if w == nil || lo > hi {
		return
	}
	for i := int(lo) >> 6; i <= int(hi)>>6; i++ {
		m := ^uint64(0)
		if i == int(lo)>>6 {
			m &= ^uint64(0) << (lo & 63)
		}
		if i == int(hi)>>6 {
			m &= ^uint64(0) >> (63 - hi&63)
		}
		w[i] |= m
	}
}

// Remove takes p out of the set.
func (s *Set) Remove(p Port) {
	if w := s.words(p.Proto); w != nil {
		w[p.Number>>6] &^= 1 << (p.Number & 63)
	}
}

// Contains reports whether p is in the set.
func (s *Set) Contains(p Port) bool {
	w := s.words(p.Proto)
	return w != nil && w[p.Number>>6]&(1<<(p.Number&63)) != 0
}

// Len returns the number of ports in the set on proto.
func (s *Set) Len(proto Protocol) int {
	w := s.words(proto)
	if w == nil {
		return 0
	}
	n := 0
	for _, x := range w {
		n += bits.OnesCount64(x)
	}
	return n
}

// All yields the port numbers in the set on proto, in ascending order.
func (s *Set) All(proto Protocol) iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		w := s.words(proto)
		if w == nil {
			return
		}
		for i, x := range w {
			for x != 0 {
				b := bits.TrailingZeros64(x)
				if !yield(uint16(i<<6 | b)) {
					return
				}
				x &= x - 1
			}
		}
	}
}

// Ports yields every port in the set: TCP ports first, then UDP, then DDP,
// each in ascending order.
func (s *Set) Ports() iter.Seq[Port] {
	return func(yield func(Port) bool) {
		for _, proto := range []Protocol{TCP, UDP, DDP} {
			for n := range s.All(proto) {
				if !yield(Port{Number: n, Proto: proto}) {
					return
				}
			}
		}
	}
}

// Union adds every port of o to s.
func (s *Set) Union(o *Set) {
	for p := range s.bits {
		for i := range s.bits[p] {
			s.bits[p][i] |= o.bits[p][i]
		}
	}
}

// Subtract removes every port of o from s; it is how --exclude-ports applies.
func (s *Set) Subtract(o *Set) {
	for p := range s.bits {
		for i := range s.bits[p] {
			s.bits[p][i] &^= o.bits[p][i]
		}
	}
}

// Intersect keeps in s only the ports that are also in o.
func (s *Set) Intersect(o *Set) {
	for p := range s.bits {
		for i := range s.bits[p] {
			s.bits[p][i] &= o.bits[p][i]
		}
	}
}

// Equal reports whether s and o hold the same ports.
func (s *Set) Equal(o *Set) bool { return s.bits == o.bits }

// String writes the set as a port specification that ParseSpec reads back
// to an equal set, whatever its options: "T:22,80,8000-8100,U:53". DDP
// ports, which have no nmap prefix, come first with a suffix ("1-4/ddp").
// The empty set is "".
func (s *Set) String() string {
	var b strings.Builder
	for _, proto := range []Protocol{DDP, TCP, UDP} {
		first := true
		for lo, hi := range s.ranges(proto) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			if first && proto != DDP {
				b.WriteString(strings.ToUpper(proto.String()[:1]) + ":")
			}
			first = false
			b.WriteString(strconv.Itoa(int(lo)))
			if hi != lo {
				b.WriteByte('-')
				b.WriteString(strconv.Itoa(int(hi)))
			}
			if proto == DDP {
				b.WriteString("/ddp")
			}
		}
	}
	return b.String()
}

// Spec writes the ports of one protocol as a range list without prefix,
// "22,80,8000-8100", as nmap's XML scaninfo lists them.
func (s *Set) Spec(proto Protocol) string {
	var b strings.Builder
	for lo, hi := range s.ranges(proto) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(lo)))
		if hi != lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(hi)))
		}
	}
	return b.String()
}

// ranges yields the maximal runs of consecutive ports on proto.
func (s *Set) ranges(proto Protocol) iter.Seq2[uint16, uint16] {
	return func(yield func(uint16, uint16) bool) {
		var lo, prev int = -1, -1
		for n := range s.All(proto) {
			switch {
			case lo < 0:
				lo = int(n)
			case int(n) != prev+1:
				if !yield(uint16(lo), uint16(prev)) {
					return
				}
				lo = int(n)
			}
			prev = int(n)
		}
		if lo >= 0 {
			yield(uint16(lo), uint16(prev))
		}
	}
}

// SpecOptions tell ParseSpec how to read protocol-less entries and names.
// The zero SpecOptions reads numbers as TCP ports and rejects names.
type SpecOptions struct {
	// Protocols receive the entries written without a protocol, that is
	// neither after a "T:"/"U:" prefix nor with a "/tcp" suffix. nmap gives
	// them to every protocol being scanned; empty means TCP only. An
	// --exclude-ports list is usually read with every scanned protocol.
	Protocols []Protocol
	// Lookup returns the ports of a service name or alias ("ssh",
	// "www"), on every protocol the catalog lists it for; the name is
	// passed exactly as written. Nil rejects every name.
	Lookup func(name string) []Port
}

// SpecError describes the entry of a port specification that could not be
// read. It matches ErrSpec with errors.Is, and ErrUnknownService too when
// that is the cause.
type SpecError struct {
	Token  string // the offending entry, as written
	Offset int    // byte offset of Token in the specification
	Err    error  // ErrSpec or ErrUnknownService
	Reason string // what is wrong, or ""
}

// Error returns one line such as `invalid port "70000": ports run 1-65535`.
func (e *SpecError) Error() string {
	s := e.Err.Error() + " " + strconv.Quote(e.Token)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the sentinel errors the error matches.
func (e *SpecError) Unwrap() []error {
	if e.Err == ErrSpec {
		return []error{ErrSpec}
	}
	return []error{e.Err, ErrSpec}
}

// ParseSpec reads an nmap-style port specification: comma-separated
// entries, each a port ("22"), a range ("8000-8100", open-ended "60000-"
// and "-1024", or "-" for 1-65535) or a service name ("ssh") looked up
// through opts.Lookup. A "T:" or "U:" prefix sets the protocol of the entry
// it starts and of every entry after it, until the next prefix; a
// "/tcp", "/udp" or "/ddp" suffix sets the protocol of its own entry only.
// Spaces around entries are ignored. Port 0 is rejected, as in
// "-p 0" being a mistake far more often than a wish.
func ParseSpec(spec string, opts SpecOptions) (*Set, error) {
	s := new(Set)
	if strings.TrimSpace(spec) == "" {
		return nil, &SpecError{Token: spec, Err: ErrSpec, Reason: "empty port specification"}
	}
	st := specState{ctx: opts.Protocols}
	if len(st.ctx) == 0 {
		st.ctx = []Protocol{TCP}
	}
	off := 0
	for _, elem := range strings.Split(spec, ",") {
		start := off
		off += len(elem) + 1
		trimmed := strings.TrimLeft(elem, " \t")
		start += len(elem) - len(trimmed)
		elem = strings.TrimRight(trimmed, " \t")
		if err := st.entry(s, elem, start, opts); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// specState is what a port specification's entries carry to the next:
// the protocols of unsuffixed entries, which prefixes change.
type specState struct {
	ctx      []Protocol
	prefixed bool // a T: or U: prefix was seen
}

// entry adds the ports of one entry, elem, found at byte offset start.
func (st *specState) entry(s *Set, elem string, start int, opts SpecOptions) error {
	fail := func(reason string) error {
		return &SpecError{Token: elem, Offset: start, Err: ErrSpec, Reason: reason}
	}
	if elem == "" {
		return fail("empty entry")
	}
	body, reason := st.prefix(elem)
	if reason != "" {
		return fail(reason)
	}
	protos, body, reason := st.suffix(body)
	if reason != "" {
		return fail(reason)
	}
	if isNumeric(body) {
		lo, hi, reason := parseRange(body)
		if reason != "" {
			return fail(reason)
		}
		for _, p := range protos {
			s.AddRange(p, lo, hi)
		}
		return nil
	}
	var found []Port
	if opts.Lookup != nil {
		found = opts.Lookup(body)
	}
	if len(found) == 0 {
		return &SpecError{Token: body, Offset: start + strings.Index(elem, body), Err: ErrUnknownService}
	}
	added := false
	for _, p := range found {
		for _, q := range protos {
			if p.Proto == q && p.Number != 0 {
				s.Add(p)
				added = true
			}
		}
	}
	if !added {
		return fail("service has no port on " + protoList(protos))
	}
	return nil
}

// prefix reads a T: or U: prefix, which sets the protocol of this entry
// and of those after it, and returns the rest of the entry.
func (st *specState) prefix(elem string) (body, reason string) {
	if len(elem) < 2 || elem[1] != ':' {
		return elem, ""
	}
	switch elem[0] {
	case 'T', 't':
		st.ctx = []Protocol{TCP}
	case 'U', 'u':
		st.ctx = []Protocol{UDP}
	default:
		return "", "unknown protocol prefix " + strconv.Quote(elem[:2]) + "; want T: or U:"
	}
	st.prefixed = true
	body = strings.TrimLeft(elem[2:], " \t")
	if body == "" {
		return "", "no port after " + elem
	}
	return body, ""
}

// suffix reads a /tcp, /udp or /ddp suffix, which sets the protocol of
// this entry only, and returns the entry's protocols and what precedes
// the suffix.
func (st *specState) suffix(body string) (protos []Protocol, rest, reason string) {
	i := strings.LastIndexByte(body, '/')
	if i < 0 {
		return st.ctx, body, ""
	}
	p, err := ParseProtocol(body[i+1:])
	switch {
	case err == nil && st.prefixed && (len(st.ctx) != 1 || st.ctx[0] != p):
		return nil, "", "protocol suffix conflicts with the prefix before it"
	case err == nil:
		return []Protocol{p}, body[:i], ""
	case isNumeric(body[:i]):
		return nil, "", "unknown protocol " + strconv.Quote(body[i+1:]) + "; want tcp, udp or ddp"
	}
	return st.ctx, body, "" // the slash belongs to a service name ("914c/g")
}

// isNumeric reports whether s is made only of digits and dashes, the
// characters of a port or a range.
func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '-' {
			return false
		}
	}
	return true
}

// parseRange reads "N", "N-M", "N-", "-M" or "-"; it returns a reason when
// the text is not a valid port or range.
func parseRange(s string) (lo, hi uint16, reason string) {
	a, b, dash := strings.Cut(s, "-")
	if strings.Contains(b, "-") {
		return 0, 0, "more than one dash"
	}
	lo, hi = 1, 65535
	var ok bool
	if a != "" {
		if lo, ok = parsePort(a); !ok {
			return 0, 0, "ports run 1-65535"
		}
	}
	if !dash {
		return lo, lo, ""
	}
	if b != "" {
		if hi, ok = parsePort(b); !ok {
			return 0, 0, "ports run 1-65535"
		}
	}
	if lo > hi {
		return 0, 0, "range runs backwards; did you mean " + strconv.Itoa(int(hi)) + "-" + strconv.Itoa(int(lo)) + "?"
	}
	return lo, hi, ""
}

func parsePort(s string) (uint16, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

func protoList(ps []Protocol) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	return strings.Join(names, " or ")
}
