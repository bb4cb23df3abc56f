package raw

import (
	"fmt"

	"golang.org/x/net/bpf"
)

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
	p := f.Ports
	if p != nil && p.First > p.Last {
		return nil, fmt.Errorf("raw: ping filter: port range %d-%d is empty", p.First, p.Last)
	}
	var a asm
	a.load(bpf.LoadAbsolute{Off: 12, Size: 2}) // EtherType
	a.jeq(etherIP4, "ip4", "")
	a.jeq(etherIP6, "ip6", "")
	if f.Neighbors {
		a.jeq(etherARP, "arp", "")
	}
	a.drop()

	// IPv4: the first fragment (or none) of TCP, UDP or ICMP.
	a.label("ip4")
	a.load(bpf.LoadAbsolute{Off: ethLen + 6, Size: 2}) // flags, fragment offset
	a.jset(0x1fff, "drop", "")
	a.load(bpf.LoadMemShift{Off: ethLen}) // X = the IPv4 header's length
	a.load(bpf.LoadAbsolute{Off: ethLen + 9, Size: 1})
	if p != nil {
		a.jeq(6, "ports4", "")
		a.jeq(17, "ports4", "")
	}
	if p != nil || f.Echo {
		a.jeq(1, "icmp4", "")
	}
	a.drop()
	if p != nil {
		a.label("ports4") // TCP and UDP both have the destination port at 2
		a.load(bpf.LoadIndirect{Off: ethLen + 2, Size: 2})
		a.inRange(*p)
	}
	if p != nil || f.Echo {
		a.label("icmp4")
		a.load(bpf.LoadIndirect{Off: ethLen, Size: 1}) // ICMP type
		if f.Echo {
			a.jeq(0, "echo4", "")  // echo reply
			a.jeq(14, "echo4", "") // timestamp reply
		}
		if p != nil {
			a.jeq(3, "quote4", "")  // destination unreachable
			a.jeq(11, "quote4", "") // time exceeded
		}
		a.drop()
	}
	if f.Echo {
		a.label("echo4")
		a.load(bpf.LoadIndirect{Off: ethLen + 4, Size: 2}) // identifier
		a.jeq(uint32(f.EchoID), "accept", "drop")
	}
	if p != nil {
		a.label("quote4") // the quoted IPv4 header, 8 bytes into the ICMP message
		a.load(bpf.LoadIndirect{Off: ethLen + 8 + 9, Size: 1})
		a.jeq(6, "quote4ports", "")
		a.jeq(17, "quote4ports", "drop")
		a.label("quote4ports")
		a.load(bpf.LoadIndirect{Off: ethLen + 8, Size: 1})
		a.load(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f})
		a.load(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
		a.load(bpf.ALUOpX{Op: bpf.ALUOpAdd})
		a.load(bpf.TAX{})                                  // X = both IPv4 headers' lengths
		a.load(bpf.LoadIndirect{Off: ethLen + 8, Size: 2}) // the quoted source port
		a.inRange(*p)
	}

	// IPv6: TCP, UDP or ICMPv6 right after the fixed header.
	a.label("ip6")
	a.load(bpf.LoadAbsolute{Off: ethLen + 6, Size: 1}) // next header
	if p != nil {
		a.jeq(6, "ports6", "")
		a.jeq(17, "ports6", "")
	}
	if p != nil || f.Echo || f.Neighbors {
		a.jeq(58, "icmp6", "")
	}
	a.drop()
	if p != nil {
		a.label("ports6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 2, Size: 2})
		a.inRange(*p)
	}
	if p != nil || f.Echo || f.Neighbors {
		a.label("icmp6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len, Size: 1}) // ICMPv6 type
		if f.Echo {
			a.jeq(129, "echo6", "") // echo reply
		}
		if p != nil {
			a.jeq(1, "quote6", "") // destination unreachable
			a.jeq(3, "quote6", "") // time exceeded
		}
		if f.Neighbors {
			a.jeq(136, "accept", "") // neighbour advertisement
		}
		a.drop()
	}
	if f.Echo {
		a.label("echo6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 4, Size: 2})
		a.jeq(uint32(f.EchoID), "accept", "drop")
	}
	if p != nil {
		a.label("quote6") // the quoted IPv6 header, 8 bytes into the message
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 8 + 6, Size: 1})
		a.jeq(6, "quote6ports", "")
		a.jeq(17, "quote6ports", "drop")
		a.label("quote6ports")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 8 + ip6Len, Size: 2})
		a.inRange(*p)
	}

	if f.Neighbors {
		a.label("arp")
		a.load(bpf.LoadAbsolute{Off: ethLen + 6, Size: 2}) // operation
		a.jeq(2, "accept", "drop")                         // reply
	}

	a.label("accept")
	a.load(bpf.RetConstant{Val: 1 << 16})
	a.label("drop")
	a.load(bpf.RetConstant{Val: 0})
	return a.resolve()
}
