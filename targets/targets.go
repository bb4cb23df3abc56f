// Package targets reads scan targets written the way nmap takes them
// (addresses, prefixes, ranges, octet patterns such as 10.0.0-3.1-254, and
// host names), from the command line or from -iL lists, and iterates the
// addresses they name without ever expanding them: a /8 starts at once.
//
// Duplicates are dropped exactly: an address named by several specs is
// yielded once, by the first spec that names it. Memory grows with what
// the specs name, not with how many there are:
//
//   - IPv4 literals (addresses, prefixes, ranges, and octet patterns of up
//     to a few thousand ranges) are merged as they are added into one set
//     of addresses, held per /16 as runs of 4 bytes or a bitmap of at most
//     8 KiB, and into an ordered list of what each adds beyond the ones
//     before it (4 bytes an address, 8 a range, consecutive ones joined).
//     A literal named again costs nothing, a new address about 4 bytes.
//   - Any other spec (an IPv6 literal, a host name, a large pattern) is
//     kept once: the same spec written again is dropped as it is added.
//     Overlaps between different such specs, and with the IPv4 literals,
//     are cut out by a sweep over their bounds before iteration starts,
//     never by remembering addresses.
//
// Exclusions are subtracted the same way, so excluding a /9 from a /8
// costs nothing per address. Only large non-contiguous octet patterns
// (more than a few thousand ranges, such as 10.*.*.1) are checked address
// by address.
package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// ErrSpec is returned, wrapped with the token and the reason, for a target
// that cannot be read.
var ErrSpec = errors.New("invalid target")

// ErrResolve is wrapped by the errors All yields for host names that do not
// resolve. Such an error concerns one name only: iteration goes on.
var ErrResolve = errors.New("cannot resolve")

// Target is one address to scan.
type Target struct {
	Addr netip.Addr
	// Name is the host name the user wrote, when Addr is the address it
	// resolved to; it is empty for literals and for the other addresses of
	// a name's prefix ("scanme.example/28").
	Name string
}

// String returns "name (addr)" as nmap prints it, or the bare address.
func (t Target) String() string {
	if t.Name == "" {
		return t.Addr.String()
	}
	return t.Name + " (" + t.Addr.String() + ")"
}

// Family chooses which addresses of a host name are scanned.
type Family uint8

// The address families a host name may resolve to.
const (
	AnyFamily Family = 0 // whatever the resolver returns first
	IPv4      Family = 4 // nmap's default
	IPv6      Family = 6 // nmap -6
)

// Options tune how a Set resolves names. The zero Options resolve with the
// system resolver and keep the first address of any family.
type Options struct {
	// Family restricts host names to addresses of one family. Address
	// literals are unambiguous and kept whatever their family, so one
	// scan can take IPv4 and IPv6 targets (nmap would refuse the mix).
	Family Family
	// AllAddresses scans every address of the chosen family a name
	// resolves to, instead of only the first one as nmap does.
	AllAddresses bool
	// Resolve looks a host name up; nil means net.DefaultResolver.
	// Tests inject their own to stay off the network.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Parallel is how many names are looked up at once; 0 means 8.
	Parallel int
	// Seen, when set, is told of every spec as it is read, targets and
	// exclusions, in order, repeats included: a scan's fingerprint
	// hashes its definition from them (package scan).
	Seen func(spec Spec, excluded bool)
}

func (o *Options) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if o.Resolve != nil {
		return o.Resolve(ctx, host)
	}
	network := "ip"
	switch o.Family {
	case IPv4:
		network = "ip4"
	case IPv6:
		network = "ip6"
	}
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

func (o *Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return 8
}

// Set is an ordered collection of target specs and exclusions. Build it
// with Add, AddFile, Exclude and ExcludeFile, then iterate it with All.
// The zero Set is empty and uses the zero Options. A Set must not be
// changed while it is iterated.
//
// IPv4 literals (addresses, prefixes, ranges, octet patterns of up to a
// few thousand ranges) are not kept as specs: what each adds beyond the
// literals before it goes into lits, spans that follow one another are
// joined, and the union of them all is seen4. So a literal named again
// costs nothing, and a new one a few bytes. Other specs (IPv6 literals,
// host names, large patterns) are kept, each distinct one once: a spec
// written again exactly as before is dropped as it is added.
type Set struct {
	opts     Options
	lits     litList         // IPv4 literals in the order named, disjoint
	seen4    set4            // the union of lits
	specs    []placed        // the other specs, in the order added
	known    map[string]bool // the keys of specs, to drop exact repeats
	excluded []Spec

	mu       sync.Mutex
	resolved map[string]resolution
	cached   *plan // dropped by every change
}

// lit4 is a span of IPv4 addresses that no earlier literal of its Set
// names.
type lit4 struct{ first, last uint32 }

// placed is a spec and where it stands among the literals: after the
// first at of them.
type placed struct {
	Spec
	at int
}

type resolution struct {
	addrs []netip.Addr // filtered by family, in resolver order
	err   error
}

// NewSet returns an empty Set using opts.
func NewSet(opts Options) *Set { return &Set{opts: opts} }

// Add appends the targets in text: one or more specs (see ParseSpec)
// separated by white space. Commas separate specs too when every piece
// between them is a whole spec ("10.0.0.1,10.0.0.9", "a.example,b.example");
// otherwise they belong to an octet list ("10.0.0.1,9"). Text that holds
// no spec at all ("", " ", ",") is an error wrapping ErrSpec.
func (s *Set) Add(text string) error {
	n := 0
	for tok, err := range specs(text) {
		if err != nil {
			return err
		}
		s.addSpec(tok)
		n++
	}
	if n == 0 {
		return noSpec(text)
	}
	return nil
}

// noSpec is the error for text that holds no target.
func noSpec(text string) error {
	if text == "" {
		return fmt.Errorf("%w %q: empty target", ErrSpec, text)
	}
	return fmt.Errorf("%w %q: no target in it", ErrSpec, text)
}

// AddFile appends the targets of a list such as nmap -iL reads: specs
// separated by white space or commas, any number a line, with '#'
// starting a comment. It reads r line by line and stops at the first
// error, which starts with name, the line and the column. name serves only
// in errors: for "-iL -" the caller passes "-" (or "stdin") and os.Stdin.
// Memory grows with what the list names, not with its length (see Set).
func (s *Set) AddFile(name string, r io.Reader) error {
	for tok, err := range readList(name, r) {
		if err != nil {
			return err
		}
		s.addSpec(tok.Spec)
	}
	return nil
}

func (s *Set) addSpec(sp Spec) {
	s.seen(sp, false)
	s.cached = nil
	switch {
	case sp.kind == kindRange && !sp.space.v6:
		s.seen4.add(uint32(sp.first.lo), uint32(sp.last.lo), s.addLit)
		return
	case sp.kind == kindPattern && sp.pat.runs() <= maxRuns:
		sp.pat.spans(func(a, b uint32) { s.seen4.add(a, b, s.addLit) })
		return
	}
	key := sp.key()
	if s.known[key] {
		return
	}
	if s.known == nil {
		s.known = make(map[string]bool)
	}
	s.known[key] = true
	s.specs = append(s.specs, placed{sp, s.lits.len()})
}

// addLit appends a span of IPv4 addresses no literal named before,
// joining it to the last one when they touch and nothing stands between.
func (s *Set) addLit(a, b uint32) {
	n := s.lits.len()
	if n > 0 && (len(s.specs) == 0 || s.specs[len(s.specs)-1].at < n) {
		if last := s.lits.last().last; last != math.MaxUint32 && last+1 == a {
			s.lits.extend(b)
			return
		}
	}
	s.lits.add(a, b)
}

// Exclude removes from the scan the targets in text, written as for Add;
// nmap's --exclude. A host name excludes every address of the chosen
// family it resolves to.
func (s *Set) Exclude(text string) error {
	n := 0
	for tok, err := range specs(text) {
		if err != nil {
			return err
		}
		s.seen(tok, true)
		s.excluded = append(s.excluded, tok)
		s.cached = nil
		n++
	}
	if n == 0 {
		return noSpec(text)
	}
	return nil
}

// ExcludeFile excludes the targets of a list written as for AddFile;
// nmap's --excludefile.
func (s *Set) ExcludeFile(name string, r io.Reader) error {
	for tok, err := range readList(name, r) {
		if err != nil {
			return err
		}
		s.seen(tok.Spec, true)
		s.excluded = append(s.excluded, tok.Spec)
		s.cached = nil
	}
	return nil
}

func (s *Set) seen(sp Spec, excluded bool) {
	if s.opts.Seen != nil {
		s.opts.Seen(sp, excluded)
	}
}

// specs yields the specs of one line of text.
func specs(text string) iter.Seq2[Spec, error] {
	return func(yield func(Spec, error) bool) {
		for tok := range tokens(text) {
			sp, err := ParseSpec(tok.text)
			if !yield(sp, err) || err != nil {
				return
			}
		}
	}
}

// token is a piece of a line and its 1-based byte column.
type token struct {
	text string
	col  int
}

// tokens splits a line at white space, and at commas when every piece
// between them looks like a whole spec.
func tokens(line string) iter.Seq[token] {
	return func(yield func(token) bool) {
		i := 0
		for i < len(line) {
			if isSpace(rune(line[i])) {
				i++
				continue
			}
			j := i
			for j < len(line) && !isSpace(rune(line[j])) {
				j++
			}
			field := line[i:j]
			if !strings.Contains(field, ",") || !listOfSpecs(field) {
				if !yield(token{field, i + 1}) {
					return
				}
			} else {
				off := i
				for piece := range strings.SplitSeq(field, ",") {
					if piece != "" && !yield(token{piece, off + 1}) {
						return
					}
					off += len(piece) + 1
				}
			}
			i = j
		}
	}
}

// listOfSpecs reports whether every comma-separated piece of field looks
// like a spec of its own: it has a letter, a colon or three dots. Pieces
// of an octet list ("10.0.0.1,9" or "10.0,2.0.1") do not.
func listOfSpecs(field string) bool {
	for piece := range strings.SplitSeq(field, ",") {
		if piece == "" {
			continue
		}
		if strings.Count(piece, ".") < 3 && !strings.ContainsFunc(piece, func(r rune) bool {
			return r == ':' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		}) {
			return false
		}
	}
	return true
}

// listSpec is a spec read from a list, with its position.
type listSpec struct {
	Spec
	line, col int
}

// maxLine bounds the length of a line in a target list.
const maxLine = 1 << 20

// readList streams the specs of a target list. A spec that does not parse
// yields an error that starts with "name:line:col:" and reading goes on; a
// read error ends the sequence.
func readList(name string, r io.Reader) iter.Seq2[listSpec, error] {
	return func(yield func(listSpec, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64*1024), maxLine)
		line := 0
		for sc.Scan() {
			line++
			text := sc.Text()
			if line == 1 {
				text = strings.TrimPrefix(text, "\uFEFF") // a byte order mark from Windows editors
			}
			if i := strings.IndexByte(text, '#'); i >= 0 {
				text = text[:i]
			}
			for tok := range tokens(text) {
				sp, err := ParseSpec(tok.text)
				if err != nil {
					err = fmt.Errorf("%s:%d:%d: %w", name, line, tok.col, err)
				}
				if !yield(listSpec{sp, line, tok.col}, err) {
					return
				}
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("%s:%d: %w: line longer than %d bytes", name, line+1, ErrSpec, maxLine)
			} else {
				err = fmt.Errorf("%s: %w", name, err)
			}
			yield(listSpec{}, err)
		}
	}
}

// resolveAll looks up, in parallel, every host name of the set not looked
// up yet. Results are kept, failures included, unless ctx ends first.
func (s *Set) resolveAll(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resolved == nil {
		s.resolved = make(map[string]resolution)
	}
	var todo []string
	seen := make(map[string]bool)
	need := func(sp Spec) {
		if _, done := s.resolved[sp.name]; sp.kind == kindName && !done && !seen[sp.name] {
			seen[sp.name] = true
			todo = append(todo, sp.name)
		}
	}
	for _, sp := range s.specs {
		need(sp.Spec)
	}
	for _, sp := range s.excluded {
		need(sp)
	}
	if len(todo) == 0 {
		return nil
	}
	results := make([]resolution, len(todo))
	sem := make(chan struct{}, s.opts.parallel())
	var wg sync.WaitGroup
	for i, name := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = s.lookup(ctx, name)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, name := range todo {
		s.resolved[name] = results[i]
	}
	return nil
}

// lookup resolves one name and keeps the addresses of the chosen family.
func (s *Set) lookup(ctx context.Context, name string) resolution {
	addrs, err := s.opts.resolve(ctx, name)
	if err != nil {
		return resolution{err: fmt.Errorf("%w %q: %w", ErrResolve, name, err)}
	}
	var keep []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		switch {
		case !a.IsValid():
		case s.opts.Family == IPv4 && !a.Is4(), s.opts.Family == IPv6 && !a.Is6():
		default:
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 {
		what := "no address"
		switch s.opts.Family {
		case IPv4:
			what = "no IPv4 address"
		case IPv6:
			what = "no IPv6 address"
		}
		return resolution{err: fmt.Errorf("%w %q: %s", ErrResolve, name, what)}
	}
	return resolution{addrs: keep}
}
