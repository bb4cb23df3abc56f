package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ErrPreset is returned by LookupPreset for an unknown name.
var ErrPreset = errors.New("lab: unknown preset")

// Preset is how one namespace of a ready-made lab is set up: addresses,
// kernel parameters, firewall and listeners. The New... constructors apply
// presets with Namespace.Apply; labd -setup applies the same ones for
// bench/lab.sh, so a person and a test probe identical labs.
type Preset struct {
	Name     string
	Dev      string         // the device Addrs go on
	Addrs    []netip.Prefix // addresses to add to Dev
	Sysctls  []Sysctl       // kernel parameters of the namespace
	Rules    string         // an nftables ruleset (nft -f syntax), or ""
	Services []Service      // listeners
}

// Sysctl is a kernel parameter, by its path under /proc/sys.
type Sysctl struct{ Key, Value string }

// noICMPRateLimit lifts the kernel's ICMP rate limits (per peer, and
// 1000/s for the whole namespace) on destination-unreachable messages, so
// that a fast scan of rejected ports gets an answer for every probe.
// SetICMPRateLimit puts them back for tests of a scanner's behaviour
// under limiting.
var noICMPRateLimit = []Sysctl{
	{"net/ipv4/icmp_ratemask", "0"},
	{"net/ipv6/icmp/ratemask", "0,3-127"},
}

var defaultICMPRateLimit = []Sysctl{
	{"net/ipv4/icmp_ratemask", "6168"},
	{"net/ipv6/icmp/ratemask", "0-1,3-127"},
}

// SetICMPRateLimit turns the kernel's limits on the ICMP errors the
// namespace sends on (the kernel's default) or off (the labs' default).
func (ns *Namespace) SetICMPRateLimit(on bool) {
	ns.t.Helper()
	set := noICMPRateLimit
	if on {
		set = defaultICMPRateLimit
	}
	for _, s := range set {
		ns.Sysctl(s.Key, s.Value)
	}
}

// SetTTL sets the IP TTL and IPv6 hop limit that the namespace's own
// packets leave with (net.ipv4.ip_default_ttl, and net.ipv6.conf's
// hop_limit for all, default and each device it has now): the TCP
// answers and ICMP messages its kernel sends, so that a scan can tell
// whose answer it got by its TTL (Linux sends 64 by default).
func (ns *Namespace) SetTTL(ttl int) {
	ns.t.Helper()
	v := strconv.Itoa(ttl)
	ns.Sysctl("net/ipv4/ip_default_ttl", v)
	var devs []string
	err := ns.Do(func() error {
		ifs, err := net.Interfaces()
		for _, ifi := range ifs {
			devs = append(devs, ifi.Name)
		}
		return err
	})
	if err != nil {
		ns.t.Fatalf("lab: in %s: %v", ns.name, err)
	}
	for _, dev := range append([]string{"all", "default"}, devs...) {
		ns.Sysctl("net/ipv6/conf/"+dev+"/hop_limit", v)
	}
}

// Apply sets the namespace up as the preset says: addresses on p.Dev,
// kernel parameters, firewall rules, then listeners.
func (ns *Namespace) Apply(p Preset) {
	ns.t.Helper()
	for _, a := range p.Addrs {
		ns.AddAddr(a.String(), p.Dev)
	}
	for _, s := range p.Sysctls {
		ns.Sysctl(s.Key, s.Value)
	}
	if p.Rules != "" {
		ns.Nft(p.Rules)
	}
	ns.Serve(p.Services...)
}

// LiveHost is an address of a lab that answers: the listed ports are
// open, every other port is closed (the kernel answers with a RST or an
// ICMP port unreachable).
type LiveHost struct {
	Addr netip.Addr
	TCP  []uint16 // listeners that accept and hold
	UDP  []uint16 // listeners that echo
}

// services lists the host's listeners.
func (h LiveHost) services() []Service {
	var s []Service
	for _, p := range h.TCP {
		s = append(s, Service{Hold, netip.AddrPortFrom(h.Addr, p)})
	}
	for _, p := range h.UDP {
		s = append(s, Service{Echo, netip.AddrPortFrom(h.Addr, p)})
	}
	return s
}

// FilteredLoopback is a namespace whose loopback shows every kind of port
// a scanner must tell apart, on 127.0.0.1 and ::1 alike (but FullBacklog,
// on 127.0.0.1 only). Dial from inside the namespace: NS.DialContext,
// NS.Do or NS.Reexec.
type FilteredLoopback struct {
	NS    *Namespace
	Addr  netip.Addr // 127.0.0.1
	Addr6 netip.Addr // ::1

	Open        []uint16 // listening, connections held: open
	OpenClose   []uint16 // listening, connections closed at once: open
	FullBacklog []uint16 // listening with a full queue, SYNs dropped: connect times out
	Closed      []uint16 // nothing listening: RST, ECONNREFUSED
	Reset       []uint16 // firewall answers a RST: ECONNREFUSED, as closed

	Dropped         []uint16 // firewall drops: connect times out
	AdminProhibited []uint16 // ICMP admin-prohibited: EHOSTUNREACH on IPv4, EACCES on IPv6
	HostUnreach     []uint16 // ICMP host-unreachable: EHOSTUNREACH

	// Dead are addresses whose every packet is dropped: hosts that look down.
	Dead []netip.Addr

	UDPOpen            []uint16 // echoes
	UDPSilent          []uint16 // listening, never answers
	UDPClosed          []uint16 // nothing listening: ICMP port unreachable
	UDPDropped         []uint16 // firewall drops
	UDPAdminProhibited []uint16 // ICMP admin-prohibited
	UDPPortUnreach     []uint16 // firewall answers ICMP port unreachable
}

var filteredLayout = FilteredLoopback{
	Addr:        netip.MustParseAddr("127.0.0.1"),
	Addr6:       netip.IPv6Loopback(),
	Open:        []uint16{22, 80, 443},
	OpenClose:   []uint16{8080},
	FullBacklog: []uint16{8081},
	Closed:      []uint16{23, 81, 1023},
	Reset:       []uint16{113},

	Dropped:         []uint16{25, 135, 3389},
	AdminProhibited: []uint16{111, 139},
	HostUnreach:     []uint16{445},

	Dead: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")},

	UDPOpen:            []uint16{53},
	UDPSilent:          []uint16{161},
	UDPClosed:          []uint16{69},
	UDPDropped:         []uint16{514},
	UDPAdminProhibited: []uint16{137},
	UDPPortUnreach:     []uint16{520},
}

// TCP returns every TCP port the lab defines, sorted.
func (l *FilteredLoopback) TCP() []uint16 {
	return sorted(l.Open, l.OpenClose, l.FullBacklog, l.Closed, l.Reset, l.Dropped, l.AdminProhibited, l.HostUnreach)
}

// UDP returns every UDP port the lab defines, sorted.
func (l *FilteredLoopback) UDP() []uint16 {
	return sorted(l.UDPOpen, l.UDPSilent, l.UDPClosed, l.UDPDropped, l.UDPAdminProhibited, l.UDPPortUnreach)
}

func (l *FilteredLoopback) preset() Preset {
	any6 := netip.IPv6Unspecified()
	var svc []Service
	for _, p := range l.Open {
		svc = append(svc, Service{Hold, netip.AddrPortFrom(any6, p)})
	}
	for _, p := range l.OpenClose {
		svc = append(svc, Service{AcceptClose, netip.AddrPortFrom(any6, p)})
	}
	for _, p := range l.FullBacklog {
		svc = append(svc, Service{FullBacklog, netip.AddrPortFrom(l.Addr, p)})
	}
	for _, p := range l.UDPOpen {
		svc = append(svc, Service{Echo, netip.AddrPortFrom(any6, p)})
	}
	for _, p := range l.UDPSilent {
		svc = append(svc, Service{Silent, netip.AddrPortFrom(any6, p)})
	}
	var r ruleset
	r.add("ip daddr %s drop", set(l.Dead))
	r.add("tcp dport %s drop", set(l.Dropped))
	r.add("tcp dport %s reject with icmpx type admin-prohibited", set(l.AdminProhibited))
	r.add("tcp dport %s reject with icmpx type host-unreachable", set(l.HostUnreach))
	r.add("tcp dport %s reject with tcp reset", set(l.Reset))
	r.add("udp dport %s drop", set(l.UDPDropped))
	r.add("udp dport %s reject with icmpx type admin-prohibited", set(l.UDPAdminProhibited))
	r.add("udp dport %s reject with icmpx type port-unreachable", set(l.UDPPortUnreach))
	return Preset{
		Name:     "filtered",
		Dev:      "lo",
		Sysctls:  noICMPRateLimit,
		Rules:    r.String(),
		Services: svc,
	}
}

// LAN is two namespaces joined by a veth pair (eth0 on each side): the
// scanner's, at 198.18.0.254/24 with no route but that subnet's, and the
// hosts', where 198.18.0.1-5 answer, 198.18.0.6-8 answer ARP but drop
// every packet, and the rest of 198.18.0.0/24 is unassigned, so that ARP
// for it fails. Dial from the scanner's side: Scanner.DialContext,
// Scanner.Do or Scanner.Reexec.
type LAN struct {
	// Name starts the names of its presets: "lan" (lan-scanner,
	// lan-hosts) or "lan20".
	Name        string
	Scanner     *Namespace
	Hosts       *Namespace
	ScannerAddr netip.Addr   // 198.18.0.254
	Prefix      netip.Prefix // 198.18.0.0/24
	Live        []LiveHost
	Dropping    []netip.Addr
}

var lanLayout = LAN{
	Name:        "lan",
	ScannerAddr: netip.MustParseAddr("198.18.0.254"),
	Prefix:      netip.MustParsePrefix("198.18.0.0/24"),
	Live: []LiveHost{
		{Addr: netip.MustParseAddr("198.18.0.1"), TCP: []uint16{22, 80, 443}, UDP: []uint16{53}},
		{Addr: netip.MustParseAddr("198.18.0.2"), TCP: []uint16{22}},
		{Addr: netip.MustParseAddr("198.18.0.3"), TCP: []uint16{80, 8080}},
		{Addr: netip.MustParseAddr("198.18.0.4"), TCP: []uint16{22, 3306}, UDP: []uint16{161}},
		{Addr: netip.MustParseAddr("198.18.0.5"), TCP: []uint16{25, 110, 143}},
	},
	Dropping: []netip.Addr{
		netip.MustParseAddr("198.18.0.6"),
		netip.MustParseAddr("198.18.0.7"),
		netip.MustParseAddr("198.18.0.8"),
	},
}

// LAN20Ports are the ports the LAN20 lab's hosts listen on, which
// bench/syn.sh scans.
var LAN20Ports = []uint16{22, 80, 443, 3306}

// lan20Layout is the LAN lab on a /20, 198.18.16.0/20: 4096 addresses,
// of which five hosts listen on some of LAN20Ports, three answer ARP
// but drop everything, and the 4087 others are nobody's. The scanner is
// 198.18.31.254. NewLAN20 builds it; the speed benchmarks of the SYN
// scan (bench/syn.sh) scan it.
var lan20Layout = LAN{
	Name:        "lan20",
	ScannerAddr: netip.MustParseAddr("198.18.31.254"),
	Prefix:      netip.MustParsePrefix("198.18.16.0/20"),
	Live: []LiveHost{
		{Addr: netip.MustParseAddr("198.18.16.1"), TCP: []uint16{22, 80}},
		{Addr: netip.MustParseAddr("198.18.18.7"), TCP: []uint16{443}},
		{Addr: netip.MustParseAddr("198.18.21.30"), TCP: []uint16{22, 3306}},
		{Addr: netip.MustParseAddr("198.18.26.100"), TCP: []uint16{80, 443}},
		{Addr: netip.MustParseAddr("198.18.31.1"), TCP: []uint16{22, 80, 443, 3306}},
	},
	Dropping: []netip.Addr{
		netip.MustParseAddr("198.18.17.5"),
		netip.MustParseAddr("198.18.24.9"),
		netip.MustParseAddr("198.18.29.200"),
	},
}

// Unassigned returns the addresses of the subnet that nobody holds (not
// the network and broadcast addresses): ARP for them goes unanswered.
func (l *LAN) Unassigned() []netip.Addr {
	taken := map[netip.Addr]bool{l.ScannerAddr: true}
	for _, h := range l.Live {
		taken[h.Addr] = true
	}
	for _, a := range l.Dropping {
		taken[a] = true
	}
	var out []netip.Addr
	first := l.Prefix.Masked().Addr()
	for a := first.Next(); l.Prefix.Contains(a.Next()); a = a.Next() {
		if !taken[a] {
			out = append(out, a)
		}
	}
	return out
}

func (l *LAN) presets() (scanner, hosts Preset) {
	bits := l.Prefix.Bits()
	scanner = Preset{
		Name:    l.Name + "-scanner",
		Dev:     "eth0",
		Addrs:   []netip.Prefix{netip.PrefixFrom(l.ScannerAddr, bits)},
		Sysctls: noICMPRateLimit,
	}
	hosts = Preset{Name: l.Name + "-hosts", Dev: "eth0", Sysctls: noICMPRateLimit}
	for _, h := range l.Live {
		hosts.Addrs = append(hosts.Addrs, netip.PrefixFrom(h.Addr, bits))
		hosts.Services = append(hosts.Services, h.services()...)
	}
	for _, a := range l.Dropping {
		hosts.Addrs = append(hosts.Addrs, netip.PrefixFrom(a, bits))
	}
	var r ruleset
	r.add("ip daddr %s drop", set(l.Dropping))
	hosts.Rules = r.String()
	return scanner, hosts
}

// LoopbackSlash24 is a firewalled /24 on the loopback of a namespace:
// 127.0.1.0/24, where five addresses have listeners and the other 251
// drop everything. Dial from inside: NS.DialContext, NS.Do or NS.Reexec.
type LoopbackSlash24 struct {
	NS       *Namespace
	Prefix   netip.Prefix // 127.0.1.0/24
	Live     []LiveHost
	Dropping []netip.Addr // every other address of Prefix, .0 and .255 included
}

var slash24Layout = LoopbackSlash24{
	Prefix: netip.MustParsePrefix("127.0.1.0/24"),
	Live: []LiveHost{
		{Addr: netip.MustParseAddr("127.0.1.1"), TCP: []uint16{22, 80}},
		{Addr: netip.MustParseAddr("127.0.1.23"), TCP: []uint16{443}},
		{Addr: netip.MustParseAddr("127.0.1.77"), TCP: []uint16{22, 8080}, UDP: []uint16{53}},
		{Addr: netip.MustParseAddr("127.0.1.128"), TCP: []uint16{3306}},
		{Addr: netip.MustParseAddr("127.0.1.254"), TCP: []uint16{22, 80, 443}},
	},
}

func init() {
	live := map[netip.Addr]bool{}
	for _, h := range slash24Layout.Live {
		live[h.Addr] = true
	}
	p := slash24Layout.Prefix
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		if !live[a] {
			slash24Layout.Dropping = append(slash24Layout.Dropping, a)
		}
	}
}

func (l *LoopbackSlash24) preset() Preset {
	p := Preset{Name: "slash24", Dev: "lo", Sysctls: noICMPRateLimit}
	var liveAddrs []netip.Addr
	for _, h := range l.Live {
		liveAddrs = append(liveAddrs, h.Addr)
		p.Services = append(p.Services, h.services()...)
	}
	var r ruleset
	r.add("ip daddr %s accept", set(liveAddrs))
	r.add("ip daddr %s drop", l.Prefix.String())
	p.Rules = r.String()
	return p
}

// Loopback is a namespace whose 127.0.0.1 has a few listeners and no
// firewall: every other port is closed. The speed benchmarks scan all of
// its ports with portscan and nmap.
var Loopback = LiveHost{
	Addr: netip.MustParseAddr("127.0.0.1"),
	TCP:  []uint16{22, 80, 443, 3306, 8080, 31337},
	UDP:  []uint16{53, 123, 161, 40000},
}

func loopbackPreset() Preset {
	return Preset{Name: "loopback", Dev: "lo", Sysctls: noICMPRateLimit, Services: Loopback.services()}
}

// Presets returns every preset: filtered, lan-scanner, lan-hosts, slash24,
// loopback, lan20-scanner and lan20-hosts.
func Presets() []Preset {
	scanner, hosts := lanLayout.presets()
	scanner20, hosts20 := lan20Layout.presets()
	return []Preset{filteredLayout.preset(), scanner, hosts, slash24Layout.preset(), loopbackPreset(), scanner20, hosts20}
}

// LookupPreset returns the preset of that name.
func LookupPreset(name string) (Preset, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("%w %q (want one of %s)", ErrPreset, name, strings.Join(names, ", "))
}

// ruleset builds the lab's nftables table: one input chain, rules in
// order, everything else accepted.
type ruleset struct{ rules []string }

func (r *ruleset) add(format, set string) {
	if set != "" {
		r.rules = append(r.rules, fmt.Sprintf(format, set))
	}
}

func (r *ruleset) String() string {
	var b strings.Builder
	b.WriteString("table inet portscan_lab {\n")
	b.WriteString("\tchain input {\n")
	b.WriteString("\t\ttype filter hook input priority filter; policy accept;\n")
	for _, rule := range r.rules {
		b.WriteString("\t\t" + rule + "\n")
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// set writes values as an nftables anonymous set ("{ 22, 80 }"), or ""
// for none.
func set[T any](values []T) string {
	if len(values) == 0 {
		return ""
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func sorted(lists ...[]uint16) []uint16 {
	var out []uint16
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
