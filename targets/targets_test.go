package targets

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeDNS is a resolver that never touches the network.
type fakeDNS struct {
	hosts map[string][]string
	calls atomic.Int32
}

func (f *fakeDNS) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	f.calls.Add(1)
	list, ok := f.hosts[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, s := range list {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func newDNS() *fakeDNS {
	return &fakeDNS{hosts: map[string][]string{
		"one.test":    {"192.0.2.1"},
		"dual.test":   {"2001:db8::1", "192.0.2.2", "192.0.2.3", "2001:db8::2"},
		"v6.test":     {"2001:db8::9"},
		"mapped.test": {"::ffff:192.0.2.4"},
		"again.test":  {"192.0.2.1"},
	}}
}

// collect renders everything All yields, errors included, one string each.
func collect(t *testing.T, s *Set) []string {
	t.Helper()
	var out []string
	for tg, err := range s.All(context.Background()) {
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		out = append(out, tg.String())
	}
	return out
}

func TestSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // targets joined by spaces
	}{
		{"ipv4", "192.0.2.7", "192.0.2.7"},
		{"cidr", "192.0.2.0/30", "192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3"},
		{"cidr host bits", "192.0.2.7/30", "192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7"},
		{"cidr 32", "192.0.2.7/32", "192.0.2.7"},
		{"range", "192.0.2.254-192.0.3.1", "192.0.2.254 192.0.2.255 192.0.3.0 192.0.3.1"},
		{"last octet range", "192.0.2.1-3", "192.0.2.1 192.0.2.2 192.0.2.3"},
		{"octet pattern", "10.0-1.0.1-2", "10.0.0.1 10.0.0.2 10.1.0.1 10.1.0.2"},
		{"octet list", "10.0,2.0.1", "10.0.0.1 10.2.0.1"},
		{"octet list and range", "10.0.0.1,5-6,9", "10.0.0.1 10.0.0.5 10.0.0.6 10.0.0.9"},
		{"open octet ranges", "10.0.0.-2 10.0.0.254-", "10.0.0.0 10.0.0.1 10.0.0.2 10.0.0.254 10.0.0.255"},
		{"leading zeros", "10.0.0.007", "10.0.0.7"},
		{"ipv6", "2001:db8::1", "2001:db8::1"},
		{"ipv6 brackets", "[::1]", "::1"},
		{"ipv6 128", "::1/128", "::1"},
		{"ipv6 cidr host bits", "2001:db8::7/126", "2001:db8::4 2001:db8::5 2001:db8::6 2001:db8::7"},
		{"ipv6 range", "2001:db8::fffe-2001:db8::1:0", "2001:db8::fffe 2001:db8::ffff 2001:db8::1:0"},
		{"ipv6 zone", "fe80::1%eth0", "fe80::1%eth0"},
		{"mapped stays ipv6", "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"name", "one.test", "one.test (192.0.2.1)"},
		{"name trailing dot", "one.test.", "error: cannot resolve \"one.test.\": no such host"},
		{"name first address", "dual.test", "dual.test (2001:db8::1)"},
		{"name mapped", "mapped.test", "mapped.test (192.0.2.4)"},
		{"name prefix", "one.test/31", "192.0.2.0 one.test (192.0.2.1)"},
		{"unresolvable goes on", "nope.test 192.0.2.9", `error: cannot resolve "nope.test": no such host 192.0.2.9`},
		{"several per string", "192.0.2.1 \t192.0.2.2", "192.0.2.1 192.0.2.2"},
		{"comma list", "192.0.2.9,one.test,2001:db8::1", "192.0.2.9 one.test (192.0.2.1) 2001:db8::1"},
		{"comma list dedupes", "192.0.2.1,192.0.2.1", "192.0.2.1"},
		{"trailing comma", "192.0.2.1,", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS()
			s := NewSet(Options{Resolve: dns.resolve})
			if err := s.Add(tt.in); err != nil {
				t.Fatalf("Add(%q): %v", tt.in, err)
			}
			got := strings.Join(collect(t, s), " ")
			if got != tt.want {
				t.Errorf("Add(%q) yields\n  %s\nwant\n  %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"10.0.0.0/8", 1 << 24},
		{"0.0.0.0/0", 1 << 32},
		{"*.*.*.*", 1 << 32},
		{"10.*.*.1", 1 << 16},
		{"10.0.0-3.1-254", 4 * 254},
		{"fd00::/120", 256},
		{"fd00::/65", 1 << 63},
		{"fd00::/64", math.MaxUint64}, // 2^64 saturates
		{"::/0", math.MaxUint64},
		{"::-ffff::", math.MaxUint64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := NewSet(Options{})
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			n, err := s.Count(context.Background())
			if err != nil || n != tt.want {
				t.Errorf("Count = %d, %v; want %d", n, err, tt.want)
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.300", `invalid target "10.0.0.300": octet 300 out of range 0-255`},
		{"10.0.0.1000", `invalid target "10.0.0.1000": octet 1000 out of range 0-255`},
		{"10.0.0", `invalid target "10.0.0": want 4 dot-separated octets, got 3`},
		{"10.0.0.0.1", `invalid target "10.0.0.0.1": want 4 dot-separated octets, got 5`},
		{"10..0.1", `invalid target "10..0.1": empty octet`},
		{"10.0.0.1,,2", `invalid target "10.0.0.1,,2": empty item in an octet list`},
		{"10.0.0.50-1", `invalid target "10.0.0.50-1": octet range 50-1 runs backwards`},
		{"10.0.0.1-2-3", `invalid target "10.0.0.1-2-3": octet "2-3" is not a number`},
		{"10.0.0.5-10.0.0.1", `invalid target "10.0.0.5-10.0.0.1": range runs backwards`},
		{"10.0.0.0/33", `invalid target "10.0.0.0/33": prefix length 33 out of range 0-32`},
		{"10.0.0.0/", `invalid target "10.0.0.0/": prefix length "" is not a number`},
		{"10.0.0.0/-1", `invalid target "10.0.0.0/-1": prefix length "-1" is not a number`},
		{"10.0.0.1-5/24", `invalid target "10.0.0.1-5/24": "10.0.0.1-5" is not a single address`},
		{"10.0.0.0/8/8", `invalid target "10.0.0.0/8/8": prefix length "8/8" is not a number`},
		{"fd00::/129", `invalid target "fd00::/129": prefix length 129 out of range 0-128`},
		{"fd00::g", `invalid target "fd00::g": not a valid IPv6 address`},
		{"fd00::2-fd00::1", `invalid target "fd00::2-fd00::1": range runs backwards`},
		{"10.0.0.1-::1", `invalid target "10.0.0.1-::1": not a valid IPv6 address`},
		{"fe80::1%eth0/64", `invalid target "fe80::1%eth0/64": a prefix cannot have a zone`},
		{"[::1", `invalid target "[::1": unbalanced brackets`},
		{"", `invalid target "": empty target`},
		{"a b", `invalid target "a b": contains white space`},
		{"foo@bar", `invalid target "foo@bar": "@" is not allowed in a host name`},
		{"-T4", `invalid target "-T4": label "-T4" starts or ends with "-"`},
		{"host-.example", `invalid target "host-.example": label "host-" starts or ends with "-"`},
		{"a..b", `invalid target "a..b": empty label in host name`},
		{"host/99x", `invalid target "host/99x": prefix length "99x" is not a number`},
		{strings.Repeat("a", 64) + ".test", `invalid target "` + strings.Repeat("a", 64) + `.test": host name label longer than 63 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSpec(tt.in)
			if err == nil {
				t.Fatalf("ParseSpec(%q) succeeded", tt.in)
			}
			if !errors.Is(err, ErrSpec) {
				t.Errorf("error does not wrap ErrSpec: %v", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func TestSpecMethods(t *testing.T) {
	sp, err := ParseSpec("scanme.test/28")
	if err != nil {
		t.Fatal(err)
	}
	if sp.String() != "scanme.test/28" || sp.Name() != "scanme.test" {
		t.Errorf("String, Name = %q, %q", sp.String(), sp.Name())
	}
	sp, _ = ParseSpec("10.0.0.1")
	if sp.Name() != "" {
		t.Errorf("literal has Name %q", sp.Name())
	}
}

func TestFamily(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		in   string
		want string
	}{
		{"any first", Options{}, "dual.test", "dual.test (2001:db8::1)"},
		{"v4 first", Options{Family: IPv4}, "dual.test", "dual.test (192.0.2.2)"},
		{"v6 first", Options{Family: IPv6}, "dual.test", "dual.test (2001:db8::1)"},
		{"v4 all", Options{Family: IPv4, AllAddresses: true}, "dual.test", "dual.test (192.0.2.2) dual.test (192.0.2.3)"},
		{"any all", Options{AllAddresses: true}, "dual.test", "dual.test (2001:db8::1) dual.test (192.0.2.2) dual.test (192.0.2.3) dual.test (2001:db8::2)"},
		{"v6 missing", Options{Family: IPv6}, "one.test", `error: cannot resolve "one.test": no IPv6 address`},
		{"v4 missing", Options{Family: IPv4}, "v6.test", `error: cannot resolve "v6.test": no IPv4 address`},
		{"v6 prefix", Options{Family: IPv6}, "v6.test/127", "2001:db8::8 v6.test (2001:db8::9)"},
		{"v4 prefix too long", Options{}, "one.test/64", `error: invalid target "one.test/64": prefix length 64 out of range 0-32 for IPv4 address 192.0.2.1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS()
			tt.opts.Resolve = dns.resolve
			s := NewSet(tt.opts)
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(collect(t, s), " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFamilyLiterals(t *testing.T) {
	// Family picks the addresses of names; literals of either family stay.
	s := NewSet(Options{Family: IPv4, Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("::2"), netip.MustParseAddr("192.0.2.9")}, nil
	}})
	if err := s.Add("::1 10.0.0.1 dual.test"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(collect(t, s), " "), "::1 10.0.0.1 dual.test (192.0.2.9)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Exclusions of the other family are harmless.
	if err := s.Exclude("fd00::1"); err != nil {
		t.Error(err)
	}
}

func TestResolveOnce(t *testing.T) {
	dns := newDNS()
	s := NewSet(Options{Resolve: dns.resolve})
	if err := s.Add("one.test one.test nope.test one.test/30"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exclude("again.test"); err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(context.Background())
	if err != nil || n != 3 {
		t.Errorf("Count = %d, %v; want 3", n, err)
	}
	got := strings.Join(collect(t, s), " ")
	want := `error: cannot resolve "nope.test": no such host 192.0.2.0 192.0.2.2 192.0.2.3`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	collect(t, s)
	if c := dns.calls.Load(); c != 3 {
		t.Errorf("resolver called %d times, want 3 (one per distinct name)", c)
	}
}

func TestLocalhost(t *testing.T) {
	// The real resolver answers "localhost" from /etc/hosts.
	s := NewSet(Options{Family: IPv4})
	if err := s.Add("localhost"); err != nil {
		t.Fatal(err)
	}
	got := collect(t, s)
	if len(got) != 1 || !strings.HasPrefix(got[0], "localhost (127.") {
		t.Errorf("localhost = %v", got)
	}
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"same twice", "192.0.2.1 192.0.2.1", "192.0.2.1"},
		{"contained later", "192.0.2.0/30 192.0.2.2 192.0.2.1-5", "192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5"},
		{"contained earlier", "192.0.2.2 192.0.2.0/30", "192.0.2.2 192.0.2.0 192.0.2.1 192.0.2.3"},
		{"name then literal", "one.test 192.0.2.1", "one.test (192.0.2.1)"},
		{"literal then name", "192.0.2.1 one.test", "192.0.2.1"},
		{"two names one address", "one.test again.test", "one.test (192.0.2.1)"},
		{"patterns", "10.0.0.1,3 10.0.0.1-4", "10.0.0.1 10.0.0.3 10.0.0.2 10.0.0.4"},
		{"ipv6", "fd00::/126 fd00::1-fd00::5", "fd00:: fd00::1 fd00::2 fd00::3 fd00::4 fd00::5"},
		{"zones apart", "fe80::1 fe80::1%a fe80::1%b fe80::1%a", "fe80::1 fe80::1%a fe80::1%b"},
		{"families apart", "::ffff:10.0.0.1 10.0.0.1", "::ffff:10.0.0.1 10.0.0.1"},
		{"top of space", "255.255.255.254/31 255.255.255.255", "255.255.255.254 255.255.255.255"},
		{"top of ipv6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS()
			s := NewSet(Options{Resolve: dns.resolve})
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(collect(t, s), " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestExclude(t *testing.T) {
	tests := []struct {
		name    string
		in, out string
		want    string
	}{
		{"address", "192.0.2.0/30", "192.0.2.1", "192.0.2.0 192.0.2.2 192.0.2.3"},
		{"list", "192.0.2.0/29", "192.0.2.0/30,192.0.2.6", "192.0.2.4 192.0.2.5 192.0.2.7"},
		{"pattern", "192.0.2.0/29", "192.0.2.1,3,5", "192.0.2.0 192.0.2.2 192.0.2.4 192.0.2.6 192.0.2.7"},
		{"everything", "192.0.2.0/29", "0.0.0.0/0", ""},
		{"name", "192.0.2.0/30", "one.test", "192.0.2.0 192.0.2.2 192.0.2.3"},
		{"name all addresses", "192.0.2.0/30", "dual.test", "192.0.2.0 192.0.2.1"},
		{"unresolvable", "192.0.2.0/31", "nope.test", `error: exclusion: cannot resolve "nope.test": no such host 192.0.2.0 192.0.2.1`},
		{"from pattern", "10.0.0-1.1-3", "10.0.1.2", "10.0.0.1 10.0.0.2 10.0.0.3 10.0.1.1 10.0.1.3"},
		{"ipv6", "fd00::/126", "fd00::1-fd00::2", "fd00:: fd00::3"},
		{"other family", "192.0.2.0/31", "::/0", "192.0.2.0 192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := newDNS()
			s := NewSet(Options{Resolve: dns.resolve})
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			if err := s.Exclude(tt.out); err != nil {
				t.Fatal(err)
			}
			got := collect(t, s)
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
			n, _ := s.Count(context.Background())
			addrs := 0
			for _, g := range got {
				if !strings.HasPrefix(g, "error") {
					addrs++
				}
			}
			if n != uint64(addrs) {
				t.Errorf("Count = %d, yielded %d", n, addrs)
			}
		})
	}
}

// TestEmptyTarget checks that text naming no target is an error, not an
// empty scan; a list may still be empty.
func TestEmptyTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `invalid target "": empty target`},
		{" ", `invalid target " ": no target in it`},
		{",", `invalid target ",": no target in it`},
		{" ,\t, ", `invalid target " ,\t, ": no target in it`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := NewSet(Options{})
			if err := s.Add(tt.in); err == nil || !errors.Is(err, ErrSpec) || err.Error() != tt.want {
				t.Errorf("Add(%q) = %v, want %s", tt.in, err, tt.want)
			}
			if err := s.Exclude(tt.in); err == nil || !errors.Is(err, ErrSpec) || err.Error() != tt.want {
				t.Errorf("Exclude(%q) = %v, want %s", tt.in, err, tt.want)
			}
		})
	}
	s := NewSet(Options{})
	if err := s.AddFile("empty.txt", strings.NewReader("# nothing\n\n , \n")); err != nil {
		t.Errorf("an empty list: %v", err)
	}
	if n, _ := s.Count(context.Background()); n != 0 {
		t.Errorf("an empty list counts %d targets", n)
	}
}

func TestExcludeLargeIsCheap(t *testing.T) {
	s := NewSet(Options{})
	if err := s.Add("10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exclude("10.0.0.0/9,10.128.0.0/10,10.192.0.0/11,10.224.0.1-10.255.255.254"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(collect(t, s), " "); got != "10.224.0.0 10.255.255.255" {
		t.Errorf("got %s", got)
	}
}

func TestExcludeErrors(t *testing.T) {
	s := NewSet(Options{})
	if err := s.Exclude("10.0.0.1,10.0.0.999"); err == nil || !errors.Is(err, ErrSpec) {
		t.Errorf("Exclude = %v", err)
	}
	err := s.ExcludeFile("skip.txt", strings.NewReader("10.0.0.1\n  bad@host\n"))
	if want := `skip.txt:2:3: invalid target "bad@host": "@" is not allowed in a host name`; err == nil || err.Error() != want {
		t.Errorf("ExcludeFile = %v\nwant %s", err, want)
	}
}

// TestLargePatterns lowers maxRuns so that small octet patterns take the
// address-by-address path.
func TestLargePatterns(t *testing.T) {
	defer func(old uint64) { maxRuns = old }(maxRuns)
	maxRuns = 1
	tests := []struct {
		name, in, out, want string
	}{
		{"alone", "10.0.0,2.1,3", "", "10.0.0.1 10.0.0.3 10.0.2.1 10.0.2.3"},
		{"after range", "10.0.0.0/30 10.0.0,2.1,3", "", "10.0.0.0 10.0.0.1 10.0.0.2 10.0.0.3 10.0.2.1 10.0.2.3"},
		{"before range", "10.0.0,2.1,3 10.0.0.0/30", "", "10.0.0.1 10.0.0.3 10.0.2.1 10.0.2.3 10.0.0.0 10.0.0.2"},
		{"two patterns", "10.0.0,2.1,3 10.0.0-2.1,3", "", "10.0.0.1 10.0.0.3 10.0.2.1 10.0.2.3 10.0.1.1 10.0.1.3"},
		{"excluded range", "10.0.0,2.1,3", "10.0.2.0/24", "10.0.0.1 10.0.0.3"},
		{"excluded pattern", "10.0.0.0/22", "10.0.0-3.0-254", "10.0.0.255 10.0.1.255 10.0.2.255 10.0.3.255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet(Options{})
			if err := s.Add(tt.in); err != nil {
				t.Fatal(err)
			}
			if tt.out != "" {
				if err := s.Exclude(tt.out); err != nil {
					t.Fatal(err)
				}
			}
			got := collect(t, s)
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
			if n, _ := s.Count(context.Background()); n != uint64(len(got)) {
				t.Errorf("Count = %d, yielded %d", n, len(got))
			}
		})
	}
}

// TestAgainstReference compares random sets over a small universe with a
// plain membership check of every address.
func TestAgainstReference(t *testing.T) {
	defer func(old uint64) { maxRuns = old }(maxRuns)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		maxRuns = []uint64{4096, 2}[round%2]
		var ins, outs []string
		for range 1 + rng.IntN(6) {
			ins = append(ins, randomSpec(rng))
		}
		for range rng.IntN(3) {
			outs = append(outs, randomSpec(rng))
		}
		s := NewSet(Options{})
		if err := s.Add(strings.Join(ins, " ")); err != nil {
			t.Fatal(err)
		}
		if len(outs) > 0 {
			if err := s.Exclude(strings.Join(outs, " ")); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		seen := map[netip.Addr]bool{}
		for _, in := range ins {
			sp, _ := ParseSpec(in)
			for a := range universe() {
				if contains(sp, a) && !seen[a] && !slices.ContainsFunc(outs, func(o string) bool {
					op, _ := ParseSpec(o)
					return contains(op, a)
				}) {
					seen[a] = true
					want = append(want, a.String())
				}
			}
		}
		got := collect(t, s)
		if !slices.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Fatalf("targets %q excluding %q: got %d targets, want %d; first difference at %d: got %v, want %v",
				ins, outs, len(got), len(want), i, got[i:min(i+3, len(got))], want[i:min(i+3, len(want))])
		}
		large := 0
		for _, x := range append(ins, outs...) {
			if sp, _ := ParseSpec(x); sp.kind == kindPattern && sp.pat.runs() > maxRuns {
				large++
			}
		}
		if n, _ := s.Count(context.Background()); large <= 1 && n != uint64(len(want)) {
			t.Fatalf("targets %q excluding %q: Count = %d, want %d", ins, outs, n, len(want))
		}
		if n, err := s.ExactCount(context.Background()); err != nil || n != uint64(len(want)) {
			t.Fatalf("targets %q excluding %q: ExactCount = %d, %v; want %d", ins, outs, n, err, len(want))
		}
	}
}

// TestExactCount checks ExactCount where Count is not exact: large
// octet patterns that overlap each other and a literal, or an
// excluded pattern.
func TestExactCount(t *testing.T) {
	defer func(old uint64) { maxRuns = old }(maxRuns)
	maxRuns = 1
	for _, tc := range []struct{ name, in, out string }{
		{"pattern, literal, pattern", "10.0.0,2.1,3 10.0.0.1 10.0.0-2.1,3", ""},
		{"three patterns", "10.0.0,2.1,3 10.0.0-2.1,3 10.0.0-3.1-3", ""},
		{"pattern less a pattern", "10.0.0.0/30 10.0.0-2.1,3", "10.0.0-1.1-2 10.0.0.0/31"},
		{"unresolved name", "nowhere.test 10.0.0,2.1,3 10.0.0-2.1,3", "10.0.0-1.1-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSet(Options{Resolve: (&fakeDNS{}).resolve})
			if err := s.Add(tc.in); err != nil {
				t.Fatal(err)
			}
			if tc.out != "" {
				if err := s.Exclude(tc.out); err != nil {
					t.Fatal(err)
				}
			}
			got := slices.DeleteFunc(collect(t, s), func(g string) bool { return strings.HasPrefix(g, "error: ") })
			if n, err := s.ExactCount(context.Background()); err != nil || n != uint64(len(got)) {
				t.Errorf("ExactCount = %d, %v; All yields %d: %v", n, err, len(got), got)
			}
		})
	}
}

// universe yields 10.0.0.0/23, where randomSpec draws its specs.
func universe() func(func(netip.Addr) bool) {
	return func(yield func(netip.Addr) bool) {
		for c := range 2 {
			for d := range 256 {
				if !yield(netip.AddrFrom4([4]byte{10, 0, byte(c), byte(d)})) {
					return
				}
			}
		}
	}
}

func contains(sp Spec, a netip.Addr) bool {
	x := fromAddr(a)
	switch sp.kind {
	case kindRange:
		return !sp.space.v6 && sp.first.cmp(x) <= 0 && x.cmp(sp.last) <= 0
	case kindPattern:
		return sp.pat.contains(uint32(x.lo))
	}
	return false
}

func randomSpec(rng *rand.Rand) string {
	c, d := rng.IntN(2), rng.IntN(8)
	switch rng.IntN(7) {
	case 5:
		return fmt.Sprintf("10.0.%d.0/%d", c, 23+rng.IntN(2))
	case 6:
		return fmt.Sprintf("10.0.0-1.%d", d)
	case 0:
		return fmt.Sprintf("10.0.%d.%d", c, d)
	case 1:
		return fmt.Sprintf("10.0.%d.%d/%d", c, d, 29+rng.IntN(4))
	case 2:
		e := d + rng.IntN(8-d)
		return fmt.Sprintf("10.0.%d.%d-10.0.%d.%d", 0, d, c, e)
	case 3:
		return fmt.Sprintf("10.0.%s.%d,%d-%d", []string{"0", "1", "0-1", "0,1"}[rng.IntN(4)], d, rng.IntN(8), 7)
	}
	return fmt.Sprintf("10.0.%d.%d-%d", c, d, d+rng.IntN(8-d))
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewSet(Options{})
	if err := s.Add("10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	n := 0
	var last error
	for _, err := range s.All(ctx) {
		if err != nil {
			last = err
			continue
		}
		n++
		if n == 10 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n > 10+ctxEvery {
		t.Errorf("after cancel: %d targets, error %v", n, last)
	}

	blocked := NewSet(Options{Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	if err := blocked.Add("slow.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := blocked.Count(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Count with done ctx = %v", err)
	}
	if blocked.resolved["slow.test"].err != nil {
		t.Error("a cancelled lookup was kept")
	}
}

func TestStopEarlyIsCheap(t *testing.T) {
	ctx := context.Background()
	allocs := testing.AllocsPerRun(20, func() {
		s := NewSet(Options{})
		if err := s.Add("10.0.0.0/8"); err != nil {
			t.Fatal(err)
		}
		n := 0
		for range s.All(ctx) {
			n++
			if n == 1000 {
				break
			}
		}
	})
	if allocs > 40 {
		t.Errorf("stopping a /8 after 1000 targets took %v allocations", allocs)
	}
}

func BenchmarkSlash8First1000(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s := NewSet(Options{})
		if err := s.Add("10.0.0.0/8"); err != nil {
			b.Fatal(err)
		}
		n := 0
		for range s.All(ctx) {
			n++
			if n == 1000 {
				break
			}
		}
	}
}

func BenchmarkIterate(b *testing.B) {
	s := NewSet(Options{})
	if err := s.Add("10.0.0.0/16 10.0.0.0/24 10.0.5.0-10.1.0.0"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for range s.All(ctx) {
		}
	}
}

func BenchmarkManySingles(b *testing.B) {
	var sb strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&sb, "10.%d.%d.%d\n", i>>16&255, i>>8&255, (i*7)&255)
	}
	list := sb.String()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s := NewSet(Options{})
		if err := s.AddFile("list", strings.NewReader(list)); err != nil {
			b.Fatal(err)
		}
		for range s.All(ctx) {
		}
	}
}

// TestSeen checks that Options.Seen is told of every spec read, in
// order, repeats and exclusions included, from arguments and lists.
func TestSeen(t *testing.T) {
	var got []string
	s := NewSet(Options{Seen: func(sp Spec, excluded bool) {
		if excluded {
			got = append(got, "-"+sp.String())
		} else {
			got = append(got, sp.String())
		}
	}})
	if err := s.Add("10.0.0.1,10.0.0.2 a.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile("list", strings.NewReader("# comment\n10.0.0.1 10.0.0-3.1 # again\n\nb.test/30\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Exclude("10.0.0.2 c.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.ExcludeFile("skip", strings.NewReader("10.0.0.3/32\n")); err != nil {
		t.Fatal(err)
	}
	want := "10.0.0.1 10.0.0.2 a.test 10.0.0.1 10.0.0-3.1 b.test/30 -10.0.0.2 -c.test -10.0.0.3/32"
	if strings.Join(got, " ") != want {
		t.Errorf("Seen told\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
