package result

import "github.com/portscan/portscan/ports"

// Reasons an ICMP error gives, in nmap's vocabulary. Classify is the one
// place that maps ICMP type and code to them.
const (
	ReasonNetProhibited  = "net-prohibited"  // ICMP network administratively prohibited
	ReasonHostProhibited = "host-prohibited" // ICMP host administratively prohibited
	ReasonNoRoute        = "no-route"        // ICMPv6 no route to destination
	ReasonBeyondScope    = "beyond-scope"    // ICMPv6 beyond scope of source address
	ReasonRejectRoute    = "reject-route"    // ICMPv6 reject route to destination
	ReasonDestUnreach    = "dest-unreach"    // another destination unreachable code
	ReasonTimeExceeded   = "time-exceeded"   // ICMP time exceeded in transit
	ReasonICMPError      = "icmp-error"      // an ICMP error of another type
	ReasonError          = "error"           // a local error that says nothing of the port
)

// ICMP types that report an error about a datagram (RFC 792, RFC 4443).
const (
	ICMPv4Unreach      = 3
	ICMPv4TimeExceeded = 11
	ICMPv6Unreach      = 1
	ICMPv6TimeExceeded = 3
)

// The destination unreachable codes that bear on a port's state.
const (
	ICMPv4PortUnreach = 3 // RFC 792
	ICMPv6PortUnreach = 4 // RFC 4443 §3.1
)

// ICMP is an ICMP (or ICMPv6) error that answered a probe.
type ICMP struct {
	V6   bool  // ICMPv6
	Type uint8 // the ICMP type
	Code uint8 // the ICMP code
	// FromTarget says the error came from the probed address itself,
	// not from a router on the way.
	FromTarget bool
}

// unreachReasons are the reasons of the destination unreachable codes
// of RFC 792 (0-5), RFC 1122 (6-12) and RFC 1812 (13-15), by code.
var unreachReasons = [...]string{
	0:  ReasonNetUnreach,      // net unreachable
	1:  ReasonHostUnreach,     // host unreachable
	2:  ReasonProtoUnreach,    // protocol unreachable
	3:  ReasonPortUnreach,     // port unreachable
	4:  ReasonDestUnreach,     // fragmentation needed and DF set
	5:  ReasonDestUnreach,     // source route failed
	6:  ReasonNetUnreach,      // destination network unknown
	7:  ReasonHostUnreach,     // destination host unknown
	8:  ReasonDestUnreach,     // source host isolated
	9:  ReasonNetProhibited,   // network administratively prohibited
	10: ReasonHostProhibited,  // host administratively prohibited
	11: ReasonNetUnreach,      // network unreachable for type of service
	12: ReasonHostUnreach,     // host unreachable for type of service
	13: ReasonAdminProhibited, // communication administratively prohibited
	14: ReasonDestUnreach,     // host precedence violation
	15: ReasonDestUnreach,     // precedence cutoff in effect
}

// unreach6Reasons are the reasons of the ICMPv6 destination unreachable
// codes of RFC 4443 §3.1, by code.
var unreach6Reasons = [...]string{
	0: ReasonNoRoute,         // no route to destination
	1: ReasonAdminProhibited, // communication administratively prohibited
	2: ReasonBeyondScope,     // beyond scope of source address
	3: ReasonHostUnreach,     // address unreachable
	4: ReasonPortUnreach,     // port unreachable
	5: ReasonAdminProhibited, // source address failed ingress/egress policy
	6: ReasonRejectRoute,     // reject route to destination
}

// Classify says what the error tells of the port a probe of proto asked
// about, as nmap reads it: a port unreachable from the target itself
// closes a UDP port; every other unreachable, a port unreachable from a
// router, any unreachable answering TCP, a time exceeded, and errors of
// other types leave the port filtered.
func (m ICMP) Classify(proto ports.Protocol) (State, string) {
	reason := m.Reason()
	if reason == ReasonPortUnreach && m.FromTarget && proto == ports.UDP {
		return Closed, reason
	}
	return Filtered, reason
}

// Reason names the error in nmap's vocabulary.
func (m ICMP) Reason() string {
	unreach, exceeded, table := uint8(ICMPv4Unreach), uint8(ICMPv4TimeExceeded), unreachReasons[:]
	if m.V6 {
		unreach, exceeded, table = ICMPv6Unreach, ICMPv6TimeExceeded, unreach6Reasons[:]
	}
	switch m.Type {
	case unreach:
		if int(m.Code) < len(table) {
			return table[m.Code]
		}
		return ReasonDestUnreach
	case exceeded:
		return ReasonTimeExceeded
	}
	return ReasonICMPError
}
