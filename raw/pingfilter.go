package raw

import "golang.org/x/net/bpf"

// PingFilter says which frames reach a host discovery run: the answers
// to its ARP requests, neighbour solicitations, ICMP queries, and TCP
// and UDP probes. Like Filter, it passes nothing it is not asked to,
// and no IPv4 fragment after the first nor IPv6 packet with extension
// headers.
type PingFilter struct {
	// Neighbors passes ARP replies and ICMPv6 neighbour advertisements.
	Neighbors bool
	// Echo passes ICMP and ICMPv6 echo replies and ICMP timestamp
	// replies whose identifier is EchoID.
	Echo   bool
	EchoID uint16
	// Ports, when set, passes TCP segments and UDP datagrams to these
	// ports, and the ICMP and ICMPv6 errors (destination unreachable,
	// time exceeded) that quote TCP or UDP from them.
	Ports *PortRange
}

// Program assembles the filter as a classic BPF program, for
// Conn.SetFilter: the snap length, 64 KiB, for a frame it passes, 0 for
// the others.
func (f PingFilter) Program() ([]bpf.Instruction, error) {
	return spec{name: "ping filter", neighbors: f.Neighbors, echo: f.Echo, echoID: f.EchoID, ports: f.Ports, udp: true}.program()
}
