// Package result is portscan's result model: what every producer (the
// scanner, the capture analysis) emits and every consumer (the outputs,
// baseline comparison, the audit) reads. A port's state and reason, the
// catalog label, the evidence of a capture, a host's record, the run's
// information and summary live here, and nowhere else; so does [Sink],
// the one way results flow from a producer to its writers.
//
// The model leaves room to grow: detected services, MAC addresses and
// shards are added as fields of these types, never as a second model.
package result

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

// State is what a probe learned about a port, in nmap's vocabulary.
type State uint8

// The port states. OpenFiltered is UDP's "no answer": the port is open and
// silent, or a firewall dropped the probe.
const (
	Unknown State = iota
	Open
	Closed
	Filtered
	OpenFiltered
)

var stateNames = [...]string{"unknown", "open", "closed", "filtered", "open|filtered"}

// String returns the state as nmap prints it ("open", "open|filtered").
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// MarshalText writes the state name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state name written by MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	st, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// ParseState reads a state name such as "open" or "open|filtered".
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if strings.EqualFold(n, name) {
			return State(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown port state %q", name)
}

// Reasons, as nmap names them, for the state of a port or host.
const (
	ReasonSynAck          = "syn-ack"          // TCP connect succeeded
	ReasonConnRefused     = "conn-refused"     // TCP RST to a connect
	ReasonReset           = "reset"            // RST seen in a capture
	ReasonNoResponse      = "no-response"      // nothing came back
	ReasonHostUnreach     = "host-unreach"     // ICMP host unreachable
	ReasonNetUnreach      = "net-unreach"      // ICMP network unreachable
	ReasonAdminProhibited = "admin-prohibited" // ICMP administratively prohibited
	ReasonPortUnreach     = "port-unreach"     // ICMP port unreachable
	ReasonProtoUnreach    = "proto-unreach"    // ICMP protocol unreachable
	ReasonUDPResponse     = "udp-response"     // a UDP datagram came back
	ReasonMidStream       = "mid-stream"       // server data seen without the handshake
	ReasonUserSet         = "user-set"         // host assumed up (-Pn)

	// Host discovery with raw packets: what showed the host up.
	ReasonARPResponse    = "arp-response"    // an ARP reply from the address (on its link)
	ReasonNDResponse     = "nd-response"     // an NDP neighbour advertisement for it (IPv6, on its link)
	ReasonEchoReply      = "echo-reply"      // an ICMP or ICMPv6 echo reply
	ReasonTimestampReply = "timestamp-reply" // an ICMP timestamp reply
)

// Port is what is known of one port on one host. Producers emit each one
// as soon as it is known; the outputs and the audit consume them.
type Port struct {
	Host     netip.Addr
	Hostname string // the name the user gave, if any
	Port     ports.Port
	State    State
	// TTL is the IP TTL (IPv6 hop limit) of the reply that decided the
	// state, as it arrived: a SYN-ACK's or RST's from the target, an
	// ICMP error's from whoever sent it (the target, or a router on the
	// way), as nmap's reason_ttl. Zero when unknown: no reply, or one
	// whose IP header the producer does not see (a connect scan's).
	TTL    uint8
	Reason string
	// ReasonIP is who sent the ICMP error that decided the state when
	// that was not the target itself (a router on the way, rejecting),
	// as nmap's reason_ip. Zero when the target answered, nothing did,
	// or the producer does not know the sender.
	ReasonIP netip.Addr
	RTT      time.Duration // time from probe to answer; zero when none came
	Time     time.Time     // when the state was decided
	Source   string        // "scan" (the default when empty) or "pcap"

	// Service is the catalog entry that labels Port, if any.
	Service *services.Entry

	// Evidence carries counters for results built from captures.
	Evidence *Evidence

	// Detected is what service detection found listening, when it ran
	// and the port was open; nil otherwise.
	Detected *Service
}

// Label says how the detected service compares with the catalog label:
// LabelConfirmed, LabelDiffers or LabelUnknown; "" when detection did
// not run on the port.
func (p Port) Label() string {
	switch {
	case p.Detected == nil:
		return ""
	case p.Detected.Name == "":
		return LabelUnknown
	case p.Service != nil && p.Detected.names(p.Service.Is):
		return LabelConfirmed
	}
	return LabelDiffers
}

// names says whether is accepts the service's name; inside TLS, also the
// names catalogs give the TLS form of a protocol (https, imaps,
// secure-mqtt).
func (s *Service) names(is func(string) bool) bool {
	if is(s.Name) {
		return true
	}
	return s.Tunnel == "ssl" && (is(s.Name+"s") || is("secure-"+s.Name))
}

// The values of Port.Label.
const (
	LabelConfirmed = "confirmed" // detection names the catalog's service
	LabelDiffers   = "differs"   // detection names another service
	LabelUnknown   = "unknown"   // detection ran and nothing matched
)

// Detection methods: how a Service was named.
const (
	MethodProbe        = "probe"               // portscan's own matchers on a live port
	MethodCapture      = "capture"             // the same matchers on a capture's bytes
	MethodServiceProbe = "nmap-service-probes" // a match line of a user's nmap-service-probes file
)

// Service is what service detection found listening on a port, in
// nmap's vocabulary.
type Service struct {
	Name       string   // "http", "ssh", "domain"; "" when nothing matched
	Tunnel     string   // "ssl" when the service spoke inside TLS, else ""
	Product    string   // "OpenSSH", "nginx"
	Version    string   // "9.2p1"
	Info       string   // extra facts: "protocol 2.0", "Debian"
	CPE        []string // "cpe:/a:openbsd:openssh:9.2p1"
	Method     string   // MethodProbe, MethodCapture or MethodServiceProbe
	Confidence int      // 0 to 10, as nmap's conf
	Banner     string   // the first bytes the service sent, sanitised and truncated
	TLS        *TLS     // the TLS handshake, when there was one
}

// TLS is what a TLS handshake showed.
type TLS struct {
	Version     string    // "TLS 1.3"
	Cipher      string    // "TLS_AES_128_GCM_SHA256"
	ALPN        string    // the negotiated protocol: "h2", "http/1.1"
	SNI         string    // the server name sent, if any
	Subject     string    // the leaf certificate's subject
	SANs        []string  // its DNS names and IP addresses
	Issuer      string    // its issuer
	NotBefore   time.Time // its validity
	NotAfter    time.Time
	SelfSigned  bool // its issuer is its subject and its signature checks with its own key
	ChainLength int  // certificates the server sent
}

// Evidence is what a capture showed of one service: traffic counts each way.
type Evidence struct {
	Flows      int       `json:"flows"`
	Clients    int       `json:"clients"`
	PacketsIn  uint64    `json:"packets_to_server"`
	PacketsOut uint64    `json:"packets_from_server"`
	BytesIn    uint64    `json:"bytes_to_server"`
	BytesOut   uint64    `json:"bytes_from_server"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// Host is the record of one host, emitted once all its ports are reported.
type Host struct {
	Addr     netip.Addr
	Hostname string
	Up       bool
	Reason   string // why it is up or down ("syn-ack", "conn-refused", "no-response", "user-set")
	Probes   int    // probes sent
	Silent   int    // probes that got no answer at all
	Counts   map[State]int
	Start    time.Time
	End      time.Time
	Source   string
	// TTL is the IP TTL (IPv6 hop limit) of the reply that gave Reason
	// (an echo reply, a SYN-ACK or RST, an ICMP error), as nmap's
	// reason_ttl on <status>. Zero when unknown: no reply, a connect, or
	// an ARP or NDP answer (nmap gives those none either).
	TTL uint8
	// ReasonIP is who sent the ICMP error that gave Reason when that was
	// not the host itself (a router's host-unreach for a host found
	// down), as [Port.ReasonIP]. Zero otherwise.
	ReasonIP netip.Addr
	// Seq numbers the hosts of a scan from 1 in the order they were
	// taken from the targets; hosts finish in another order. Zero when
	// there is no such order (captures).
	Seq uint64
	// Index is the host's place in the scan's targets, from 1: the
	// same in every shard of a scan and in a resumed run, so that parts
	// of one scan merge in target order. Zero when unknown (captures,
	// nmap's XML).
	Index uint64

	// RTT and RTTVar are the host's smoothed round trip time and its
	// variation, from the probes it answered (zero when none did), and
	// Timeout the probe timeout they gave it when it finished: nmap's
	// srtt, rttvar and to.
	RTT, RTTVar, Timeout time.Duration

	// MAC is the host's link address, as its answer to neighbour
	// discovery (ARP, NDP) gave it: only for hosts on a link of the
	// scanner's own, nil otherwise (a host beyond a router is reached at
	// the router's). Vendor is the organisation its first three bytes
	// are assigned to in the IEEE registry, "" when unknown or when the
	// system has no registry.
	MAC    net.HardwareAddr
	Vendor string

	// Incomplete says the run ended (it was interrupted) before the host
	// was done: its ports are those decided so far, and Up says whether
	// any answer had shown it up. An incomplete host that is not Up is of
	// unknown state, neither up nor down.
	Incomplete bool

	// Tarpit says the host answered open on nearly every port probed
	// (the scanner's rule: [TarpitMinOpen] open ports or more, making at
	// least [TarpitShare] of the ports decided): a tarpit, or a firewall
	// that redirects every port to one listener. Its open ports say
	// nothing about the services it runs.
	Tarpit bool

	// CutShort says probing the host stopped early, when it reached the
	// cap on open ports the run was given (scanner.Config.MaxOpen);
	// Unscanned ports of the scan were then never reported, the answers
	// still in flight included. Producers without such a cap (captures)
	// leave both zero.
	CutShort  bool
	Unscanned int
}

// Tarpit thresholds: a host is flagged [Host.Tarpit] when at least
// TarpitMinOpen of its ports are open and they make at least TarpitShare
// of its ports with a state. A few ports short of all allows for a
// redirecting firewall that spares some, or a listener whose queue
// overflowed; 100 keeps small scans of busy servers from being flagged.
const (
	TarpitMinOpen = 100
	TarpitShare   = 0.9
)

// IsTarpit applies the tarpit thresholds to a host's port counts.
func IsTarpit(counts map[State]int) bool {
	open, all := counts[Open], 0
	for _, n := range counts {
		all += n
	}
	return open >= TarpitMinOpen && float64(open) >= TarpitShare*float64(all)
}

// Status is the host's state as nmap's XML names it: "up", "down", or
// "unknown" for an incomplete host that had not answered yet.
func (h Host) Status() string {
	switch {
	case h.Up:
		return "up"
	case h.Incomplete:
		return "unknown"
	}
	return "down"
}

// Summary sums up a whole run. Its host counts cover the hosts whose
// Host event the producer emitted, by [Host.Status]; a Writer that closes
// hosts itself at End (their Host event never came) adds those.
type Summary struct {
	Start     time.Time
	End       time.Time
	HostsUp   int
	HostsDown int
	// HostsUnknown counts incomplete hosts that had not answered when
	// the run ended: neither up nor down.
	HostsUnknown int
	Probes       int64
	Open         int
	Interrupted  bool

	// Capture is set for capture analyses.
	Capture *CaptureStats
}

// CaptureStats count what a capture analysis read and what it left out,
// so that a report says when its evidence is partial.
type CaptureStats struct {
	Packets     uint64 `json:"packets"`      // packets read
	Skipped     uint64 `json:"skipped"`      // not TCP, UDP or an ICMP error, or undecodable
	Flows       uint64 `json:"flows"`        // flows seen
	EvictedIdle uint64 `json:"evicted_idle"` // flows closed early for being idle
	EvictedFull uint64 `json:"evicted_full"` // flows closed early because the flow table was full
	Unreported  uint64 `json:"unreported"`   // flows left out because the service table was full
}

// Hosts is the number of hosts the run reported, up, down or unknown.
func (s Summary) Hosts() int { return s.HostsUp + s.HostsDown + s.HostsUnknown }

// ProbesPerSecond is the average probe rate of the run.
func (s Summary) ProbesPerSecond() float64 {
	d := s.End.Sub(s.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(s.Probes) / d
}

// ScanDiscovery is the Info.ScanType of a run that only found which
// hosts are up, probing none of their ports (portscan -sn).
const ScanDiscovery = "discovery"

// Info describes a run; Sink.Begin receives it before any result.
type Info struct {
	Args      []string         // the command line, program name first
	Start     time.Time        // when the run started
	ScanType  string           // "connect", "syn", "udp", "connect+udp", "syn+udp", "pcap" or ScanDiscovery
	Protocols []ports.Protocol // the protocols probed, in order
	PortsSpec string           // the port specification, as a range string ("1-1024,8080")
	NumPorts  int              // how many ports of each protocol are probed
	// Ports, when set, is the scan's port set: per-protocol counts and
	// lists come from it rather than from NumPorts and PortsSpec.
	Ports   *ports.Set
	Version string // portscan's version
	Lang    string // "zh" or "en": the language of descriptions in text output

	// Shard is the share of the scan this run probes (zero: all of it).
	Shard Shard
	// Seed is the seed of the probe order and of the shards; zero when
	// the run was not given one.
	Seed uint64
	// Fingerprint names the scan's definition (targets, exclusions,
	// ports, protocols, seed), the same for every shard and resumed run
	// of one scan, so that parts of different scans are never merged.
	// Empty for captures.
	Fingerprint string
}

// Shard is one share of a scan split across runs: the run probes the
// elements (host, port and protocol) of the scan's seeded permutation
// whose position is Index modulo Count. Index counts from 0, as
// --shard-index and a Kubernetes Job's completion index do; the zero
// Shard is the whole scan.
type Shard struct {
	Index, Count int
}

// Sharded reports whether s is a share of more than one.
func (s Shard) Sharded() bool { return s.Count > 1 }

// String writes s as --shard takes it, counting from 1: "2/4" for
// Index 1 of 4; "" for the whole scan.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return strconv.Itoa(s.Index+1) + "/" + strconv.Itoa(s.Count)
}

// MACString writes h.MAC as nmap writes MAC addresses, in every output:
// pairs of upper-case hex digits joined by colons ("02:42:AC:11:00:02");
// "" when the host has none.
func (h Host) MACString() string {
	if len(h.MAC) == 0 {
		return ""
	}
	return strings.ToUpper(h.MAC.String())
}
