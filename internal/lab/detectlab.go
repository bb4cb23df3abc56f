package lab

import (
	"fmt"
	"net/netip"
	"os"
	"testing"
)

// DetectService is one service of the detection lab, and what service
// detection must say of it, in nmap's vocabulary.
type DetectService struct {
	Kind DaemonKind
	Addr netip.AddrPort
	// TLS says that the service speaks inside TLS: a client handshakes
	// first (skipping verification: the certificate is self-signed).
	TLS bool
	// Name is the service's name ("ssh", "http", "domain"); Tunnel is
	// "ssl" when it speaks inside TLS.
	Name, Tunnel string
	// Product is the product detection must name, "" when the protocol
	// does not reveal it.
	Product string
	// Version is the version detection must name: what the daemon's own
	// program says (so it follows the installed package); "" when the
	// protocol does not reveal it.
	Version string
}

// FullName is the name as nmap prints it: "ssl/http" inside TLS.
func (s DetectService) FullName() string {
	if s.Tunnel != "" {
		return s.Tunnel + "/" + s.Name
	}
	return s.Name
}

func (s DetectService) String() string { return s.FullName() + "@" + s.Addr.String() }

// detectWant is what detection reveals of each kind of daemon: its
// name, product, and whether its version shows.
var detectWant = map[DaemonKind]struct {
	name, product string
	versioned     bool
}{
	SSHD:        {"ssh", "OpenSSH", true},
	Nginx:       {"http", "nginx", true},
	VSFTPD:      {"ftp", "vsftpd", true},
	Redis:       {"redis", "Redis key-value store", true},
	Memcached:   {"memcached", "Memcached", true},
	Mosquitto:   {"mqtt", "", false}, // CONNACK names no product
	PostgreSQL:  {"postgresql", "PostgreSQL DB", true},
	MariaDB:     {"mysql", "MariaDB", true},
	Rsync:       {"rsync", "", false}, // the greeting has the protocol version only
	Dnsmasq:     {"domain", "dnsmasq", true},
	Exim:        {"smtp", "Exim smtpd", true},
	DovecotIMAP: {"imap", "Dovecot imapd", false},
	DovecotPOP3: {"pop3", "Dovecot pop3d", false},
}

var (
	loopback4 = netip.MustParseAddr("127.0.0.1")
	// labRedis is the Redis that stunnel wraps.
	labRedis = netip.AddrPortFrom(loopback4, 6379)
)

// detectionLab is the lab's layout: every daemon on its usual port of
// 127.0.0.1, and a few on unusual ones.
var detectionLab = []Daemon{
	{Kind: SSHD, Addr: netip.AddrPortFrom(loopback4, 22)},
	{Kind: SSHD, Addr: netip.AddrPortFrom(loopback4, 2222)},
	{Kind: Nginx, Addr: netip.AddrPortFrom(loopback4, 80)},
	{Kind: Nginx, Addr: netip.AddrPortFrom(loopback4, 443), TLS: true},
	{Kind: Nginx, Addr: netip.AddrPortFrom(loopback4, 8000)},
	{Kind: VSFTPD, Addr: netip.AddrPortFrom(loopback4, 21)},
	{Kind: Redis, Addr: labRedis},
	{Kind: Redis, Addr: netip.AddrPortFrom(loopback4, 7777)},
	{Kind: Memcached, Addr: netip.AddrPortFrom(loopback4, 11211)},
	{Kind: Mosquitto, Addr: netip.AddrPortFrom(loopback4, 1883)},
	{Kind: PostgreSQL, Addr: netip.AddrPortFrom(loopback4, 5432)},
	{Kind: MariaDB, Addr: netip.AddrPortFrom(loopback4, 3306)},
	{Kind: Rsync, Addr: netip.AddrPortFrom(loopback4, 873)},
	{Kind: Stunnel, Addr: netip.AddrPortFrom(loopback4, 8443), Backend: labRedis},
	{Kind: Dnsmasq, Addr: netip.AddrPortFrom(loopback4, 53)},
	{Kind: Exim, Addr: netip.AddrPortFrom(loopback4, 25)},
	{Kind: DovecotIMAP, Addr: netip.AddrPortFrom(loopback4, 143)},
	{Kind: DovecotPOP3, Addr: netip.AddrPortFrom(loopback4, 110)},
}

// StartDetectionLab starts, in a new namespace, the lab that service
// detection is tested on: real Debian daemons on 127.0.0.1, each on its
// usual port (ssh 22, http 80, https 443, ftp 21, redis 6379, memcached
// 11211, mqtt 1883, postgresql 5432, mysql 3306, rsync 873, domain 53,
// smtp 25, imap 143, pop3 110), and some on unusual ones: ssh on 2222,
// http on 8000, redis on 7777, and stunnel on 8443 wrapping the Redis
// of 6379 in TLS. It returns each service with what detection must
// say of it, in the lab's order.
//
// A daemon that is not installed is left out, with a line in the test's
// log (the test fails instead when PORTSCAN_LAB_REQUIRE is set); the
// test is skipped when none is. Everything stops at cleanup, and the
// test fails if any process outlives its daemon's stop.
func StartDetectionLab(t testing.TB) (*Namespace, []DetectService) {
	t.Helper()
	ns := NewNamespace(t, "detect")
	ns.ExpectEmptyAtCleanup()
	var ds []Daemon
	for _, d := range detectionLab {
		if err := DaemonAvailable(d.Kind); err != nil {
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%v (%s is set)", err, RequireEnv)
			}
			t.Logf("detection lab: %v left out: %v", d, err)
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		t.Skip("detection lab: none of its daemons is installed")
	}
	running := StartDaemons(t, ns, ds...)
	byAddr := map[netip.AddrPort]*RunningDaemon{}
	for _, r := range running {
		byAddr[r.Addr] = r
	}
	var out []DetectService
	for _, r := range running {
		s, err := detectService(r, byAddr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return ns, out
}

// detectService says what detection must find of a running daemon; a
// stunnel is its backend inside TLS.
func detectService(r *RunningDaemon, byAddr map[netip.AddrPort]*RunningDaemon) (DetectService, error) {
	s := DetectService{Kind: r.Kind, Addr: r.Addr, TLS: r.TLS}
	inner := r
	if r.Kind == Stunnel {
		inner = byAddr[r.Backend]
		if inner == nil {
			return s, fmt.Errorf("lab: %v wraps %v, which is not running", r, r.Backend)
		}
		s.TLS = true
	}
	w, ok := detectWant[inner.Kind]
	if !ok {
		return s, fmt.Errorf("lab: no detection expected of %v", inner)
	}
	s.Name, s.Product = w.name, w.product
	if w.versioned {
		s.Version = inner.Version
	}
	if s.TLS {
		s.Tunnel = "ssl"
	}
	return s, nil
}
