package scanner

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// Defaults for the zero Config, chosen as nmap's -T4 timing template does
// for a fast, reliable network.
const (
	DefaultInitialRTTTimeout = time.Second
	DefaultMinRTTTimeout     = 100 * time.Millisecond
	DefaultMaxRTTTimeout     = 1250 * time.Millisecond
	DefaultRetries           = 1
	DefaultMaxConcurrency    = 8192
)

// DefaultDiscoveryPorts are the TCP ports a host is tried on before its
// ports are scanned, as nmap's unprivileged host discovery does; a host
// that answers on any of them (open or closed) is up.
var DefaultDiscoveryPorts = []uint16{80, 443}

// Config says what to probe and how. The zero Config scans nothing; set
// Ports. Every other zero field means its default.
type Config struct {
	// Ports to probe on each host. TCP ports get a connect probe, or a
	// SYN with Syn.
	Ports *ports.Set

	// Syn probes TCP ports with raw SYNs rather than connects (nmap -sS):
	// open is a SYN-ACK, closed a RST, filtered an ICMP error or silence.
	// It needs CAP_NET_RAW: without it Run fails with an error matching
	// raw.ErrPermission, and never falls back to connects. Discovery
	// probes are SYNs too; UDP probes are as without it.
	Syn bool

	// Concurrency is the most probes in flight at once. Zero means as many
	// as the open-file limit allows, up to DefaultMaxConcurrency. The raw
	// prober never has more in flight than the descriptors left free by
	// the rest of the process (see CheckFileLimit).
	Concurrency int
	// Rate caps probes sent per second; zero means no cap.
	Rate float64
	// Tries is the most probes a port gets before it is called silent:
	// one, and a retry for each that went unanswered. Zero means
	// 1+DefaultRetries.
	Tries int

	// InitialRTTTimeout is how long a probe waits before the host's round
	// trip time is known; MinRTTTimeout and MaxRTTTimeout bound the
	// timeout derived from the measured round trip times.
	InitialRTTTimeout time.Duration
	MinRTTTimeout     time.Duration
	MaxRTTTimeout     time.Duration

	// SkipDiscovery scans every port of every host without first checking
	// that the host answers (nmap -Pn).
	SkipDiscovery bool
	// DiscoveryPorts replaces DefaultDiscoveryPorts.
	DiscoveryPorts []uint16
	// DiscoverOnly probes each host on the discovery ports only and
	// reports it up or down, scanning none of its ports (nmap -sn):
	// Ports may be empty, and SkipDiscovery is ignored.
	DiscoverOnly bool

	// RawDiscovery finds which hosts are up with raw packets, as nmap
	// does with privileges, rather than by connecting to the discovery
	// ports: a host on one of the scanner's links is asked for its link
	// address (ARP for IPv4, NDP for IPv6), which it answers whatever its
	// firewall drops (arp-response, nd-response; its MAC address goes in
	// result.Host.MAC); a host beyond a router, and the scanner's own
	// addresses, get Pings. It needs CAP_NET_RAW: without it Run fails
	// with an error matching raw.ErrPermission. DiscoveryPorts is then
	// unused.
	RawDiscovery bool
	// Pings are the probes raw discovery sends to hosts beyond the
	// scanner's links (see CheckPings); nil means DefaultPings.
	Pings []Ping

	// Vendor names the vendor of a MAC address for result.Host.Vendor;
	// nil means the system's IEEE registry (oui.System), read the first
	// time a MAC is to be labelled.
	Vendor func(net.HardwareAddr) string

	// HostGroup is the most hosts scanned at once; the next host starts
	// when one finishes. Zero means enough to keep Concurrency busy.
	HostGroup int

	// MaxOpen caps the open ports reported per host: once a host has
	// shown MaxOpen open ports, it is probed no more, and its record says
	// it was cut short (result.Host.CutShort, Unscanned). To stop there,
	// a host has no more probes in flight than it could still answer
	// open: MaxOpen less its open ports, which also bounds its share of
	// Concurrency. Zero means no cap. A tarpit, which accepts every port,
	// otherwise costs a probe and a result per port; it is flagged either
	// way (result.Host.Tarpit).
	MaxOpen int

	// Seed makes the probe order repeatable; zero picks one at random.
	// It also keys the permutation of the shards: a sharded run needs
	// one, the same in every shard.
	Seed uint64

	// Shard is the share of the scan this run probes (package shard):
	// of each host only the ports the shard owns are probed, and a host
	// that owns none is neither probed nor reported. Discovery, retries
	// and timing work as in a whole scan, for the hosts admitted. The
	// zero Shard, or one of 1, is the whole scan.
	Shard result.Shard
	// Hosts is the number of targets the run is given
	// (targets.Set.ExactCount), which the permutation of the shards
	// spans: required when sharded, ignored otherwise.
	Hosts uint64

	// Label names the service of a port for result.Port.Service; nil
	// means the built-in catalog's (services.Default).
	Label services.Labeler

	// Dial, when set, makes connections instead of the built-in raw
	// socket prober, one goroutine each; tests use it to run without a
	// network, and it is the prober on systems other than Linux.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Progress, when set, is called from the run's loop about every
	// ProgressEvery (zero means a second) with the counts so far, and
	// once more as the run ends. It must return quickly.
	Progress      func(Stats)
	ProgressEvery time.Duration

	// ICMPLimit, when set, is told when a host is found to rate-limit the
	// ICMP errors that mark its closed UDP ports, each time its UDP
	// probes slow down further, and as it finishes; it must return
	// quickly.
	ICMPLimit func(ICMPLimit)

	// Resume, when set, makes the run go on from earlier runs of the
	// same scan: same targets, ports and Seed (see [Resume]).
	Resume *Resume

	// Watch, when set, is told of each host as it is admitted (its
	// Index, Seq, address, name and start), and again when it is found
	// up (Up and Reason set), from the run's loop: what a checkpoint of
	// the run needs to know of the hosts in flight, which their Port and
	// Host events do not say yet. It must return quickly.
	Watch func(result.Host)

	// Warn is told of a target that cannot be scanned (a host name that
	// does not resolve); the run goes on. Nil drops the warning.
	Warn func(error)
}

// Stats are the counts of a run in progress, for a progress display.
type Stats struct {
	Elapsed     time.Duration // since the run started, on Config.Now's clock
	Probes      int64         // probes sent
	InFlight    int           // probes awaiting their answer
	HostsDone   int           // hosts reported
	HostsUp     int           // of which up
	HostsActive int           // hosts being scanned
	// Ports are the ports settled: reported, or left unprobed on a host
	// found down (every port of it). A run that only discovers settles
	// none. In a shard they are the ports it owns, so that they add up
	// to its share; a host found down on a list of more than 4096
	// ports (where counting them would cost more than the host did)
	// counts its expected share until the run ends, when the count is
	// made exact.
	Ports int64
}

// ICMPLimit says that a host rate-limits its ICMP port unreachables, so
// that the engine slows its UDP probes to be answered; a host that
// answers fast enough gets them no slower.
type ICMPLimit struct {
	Addr netip.Addr
	// ICMPRate is the port unreachables a second the host sent since the
	// limit was found, about; zero until a second has passed.
	ICMPRate float64
	// ProbeRate is the UDP probes a second the host gets from now on.
	ProbeRate float64
	// First is set the first time the host is found limiting, and Done
	// once more as it finishes, with the rate measured over its scan.
	First, Done bool
}

func (c *Config) progressEvery() time.Duration {
	if c.ProgressEvery > 0 {
		return c.ProgressEvery
	}
	return time.Second
}

func (c *Config) label() services.Labeler {
	if c.Label == nil {
		return services.Default().Lookup
	}
	return c.Label
}

func (c *Config) warn(err error) {
	if c.Warn != nil {
		c.Warn(err)
	}
}

// retries is how often a port that did not answer is probed again.
func (c *Config) retries() int {
	if c.Tries <= 0 {
		return DefaultRetries
	}
	return c.Tries - 1
}

func (c *Config) initialRTTTimeout() time.Duration {
	if c.InitialRTTTimeout > 0 {
		return c.InitialRTTTimeout
	}
	return min(max(DefaultInitialRTTTimeout, c.minRTTTimeout()), c.maxRTTTimeout())
}

func (c *Config) minRTTTimeout() time.Duration {
	if c.MinRTTTimeout > 0 {
		return c.MinRTTTimeout
	}
	return min(DefaultMinRTTTimeout, c.maxRTTTimeout())
}

func (c *Config) maxRTTTimeout() time.Duration {
	if c.MaxRTTTimeout > 0 {
		return c.MaxRTTTimeout
	}
	if c.MinRTTTimeout > DefaultMaxRTTTimeout {
		return c.MinRTTTimeout
	}
	return DefaultMaxRTTTimeout
}

func (c *Config) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	if c.rawOnly() {
		return DefaultMaxConcurrency // no probe takes a descriptor
	}
	// Leave room for the process's other files: 64 of them, or half a
	// small limit.
	limit := fileLimit()
	return max(1, min(max(limit-64, limit/2), DefaultMaxConcurrency))
}

func (c *Config) discoveryPorts() []uint16 {
	if c.DiscoveryPorts != nil {
		return c.DiscoveryPorts
	}
	return DefaultDiscoveryPorts
}

func (c *Config) hostGroup() int {
	if c.HostGroup > 0 {
		return c.HostGroup
	}
	return max(64, c.concurrency()/2)
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// rawOnly says every probe of the run is a raw packet: a discovery-only
// run with raw discovery.
func (c *Config) rawOnly() bool { return c.RawDiscovery && c.DiscoverOnly }
