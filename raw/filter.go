package raw

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// PortRange is a range of ports, First to Last inclusive.
type PortRange struct{ First, Last uint16 }

// Contains reports whether p is in the range.
func (r PortRange) Contains(p uint16) bool { return p >= r.First && p <= r.Last }

// Filter says which frames of an Ethernet (or loopback) interface reach
// user space. Each field passes one kind of reply; a zero Filter passes
// nothing. IPv4 fragments after the first and IPv6 packets with
// extension headers before TCP or ICMPv6 are not passed.
type Filter struct {
	// TCPPorts, when set, passes TCP segments to these ports, and the
	// ICMP and ICMPv6 errors (destination unreachable, time exceeded)
	// that quote a TCP segment from them: the answers to probes sent
	// from the range.
	TCPPorts *PortRange
	// Neighbors passes ARP replies and ICMPv6 neighbour advertisements.
	Neighbors bool
}

// Offsets in an Ethernet frame.
const (
	ethLen   = 14
	ip6Len   = 40
	etherIP4 = 0x0800
	etherIP6 = 0x86dd
	etherARP = 0x0806
)

// Program assembles the filter as a classic BPF program, for
// Conn.SetFilter. It returns the snap length, 64 KiB, for a frame it
// passes, and 0 for the others.
func (f Filter) Program() ([]bpf.Instruction, error) {
	return spec{name: "filter", neighbors: f.Neighbors, ports: f.TCPPorts}.program()
}

// spec is what a program passes: Filter and PingFilter each ask for a
// part of it.
type spec struct {
	name      string // for errors
	neighbors bool   // ARP replies, neighbour advertisements
	echo      bool   // echo and timestamp replies with the identifier echoID
	echoID    uint16
	// ports passes TCP (and with udp UDP) to the range, and the ICMP
	// errors that quote them.
	ports *PortRange
	udp   bool
}

func (s spec) program() ([]bpf.Instruction, error) {
	if p := s.ports; p != nil && p.First > p.Last {
		return nil, fmt.Errorf("raw: %s: port range %d-%d is empty", s.name, p.First, p.Last)
	}
	var a asm
	a.load(bpf.LoadAbsolute{Off: 12, Size: 2}) // EtherType
	a.jeq(etherIP4, "ip4", "")
	a.jeq(etherIP6, "ip6", "")
	if s.neighbors {
		a.jeq(etherARP, "arp", "")
	}
	a.drop()
	s.ip4(&a)
	s.ip6(&a)
	if s.neighbors {
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

// l4 jumps to label for TCP, and for UDP too when s passes it.
func (s spec) l4(a *asm, label, otherwise string) {
	if s.udp {
		a.jeq(6, label, "")
		a.jeq(17, label, otherwise)
	} else {
		a.jeq(6, label, otherwise)
	}
}

// icmp says whether s passes any ICMP but neighbour advertisements.
func (s spec) icmp() bool { return s.ports != nil || s.echo }

// ip4 passes the first fragment (or none) of IPv4 TCP, UDP or ICMP.
func (s spec) ip4(a *asm) {
	p := s.ports
	a.label("ip4")
	a.load(bpf.LoadAbsolute{Off: ethLen + 6, Size: 2}) // flags, fragment offset
	a.jset(0x1fff, "drop", "")
	a.load(bpf.LoadMemShift{Off: ethLen}) // X = the IPv4 header's length
	a.load(bpf.LoadAbsolute{Off: ethLen + 9, Size: 1})
	if p != nil {
		s.l4(a, "ports4", "")
	}
	if s.icmp() {
		a.jeq(1, "icmp4", "")
	}
	a.drop()
	if p != nil {
		a.label("ports4") // TCP and UDP both have the destination port at 2
		a.load(bpf.LoadIndirect{Off: ethLen + 2, Size: 2})
		a.inRange(*p)
	}
	if s.icmp() {
		a.label("icmp4")
		a.load(bpf.LoadIndirect{Off: ethLen, Size: 1}) // ICMP type
		if s.echo {
			a.jeq(0, "echo4", "")  // echo reply
			a.jeq(14, "echo4", "") // timestamp reply
		}
		if p != nil {
			a.jeq(3, "quote4", "")  // destination unreachable
			a.jeq(11, "quote4", "") // time exceeded
		}
		a.drop()
	}
	if s.echo {
		a.label("echo4")
		a.load(bpf.LoadIndirect{Off: ethLen + 4, Size: 2}) // identifier
		a.jeq(uint32(s.echoID), "accept", "drop")
	}
	if p != nil {
		a.label("quote4") // the quoted IPv4 header, 8 bytes into the ICMP message
		a.load(bpf.LoadIndirect{Off: ethLen + 8 + 9, Size: 1})
		s.l4(a, "quote4ports", "drop")
		a.label("quote4ports")
		a.load(bpf.LoadIndirect{Off: ethLen + 8, Size: 1})
		a.load(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f})
		a.load(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
		a.load(bpf.ALUOpX{Op: bpf.ALUOpAdd})
		a.load(bpf.TAX{})                                  // X = both IPv4 headers' lengths
		a.load(bpf.LoadIndirect{Off: ethLen + 8, Size: 2}) // the quoted source port
		a.inRange(*p)
	}
}

// ip6 passes IPv6 TCP, UDP or ICMPv6 right after the fixed header.
func (s spec) ip6(a *asm) {
	p := s.ports
	a.label("ip6")
	a.load(bpf.LoadAbsolute{Off: ethLen + 6, Size: 1}) // next header
	if p != nil {
		s.l4(a, "ports6", "")
	}
	if s.icmp() || s.neighbors {
		a.jeq(58, "icmp6", "")
	}
	a.drop()
	if p != nil {
		a.label("ports6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 2, Size: 2})
		a.inRange(*p)
	}
	if s.icmp() || s.neighbors {
		a.label("icmp6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len, Size: 1}) // ICMPv6 type
		if s.echo {
			a.jeq(129, "echo6", "") // echo reply
		}
		if p != nil {
			a.jeq(1, "quote6", "") // destination unreachable
			a.jeq(3, "quote6", "") // time exceeded
		}
		if s.neighbors {
			a.jeq(136, "accept", "") // neighbour advertisement
		}
		a.drop()
	}
	if s.echo {
		a.label("echo6")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 4, Size: 2})
		a.jeq(uint32(s.echoID), "accept", "drop")
	}
	if p != nil {
		a.label("quote6") // the quoted IPv6 header, 8 bytes into the message
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 8 + 6, Size: 1})
		s.l4(a, "quote6ports", "drop")
		a.label("quote6ports")
		a.load(bpf.LoadAbsolute{Off: ethLen + ip6Len + 8 + ip6Len, Size: 2})
		a.inRange(*p)
	}
}

// asm assembles a program with named jump targets. "" as a target is
// the next instruction.
type asm struct {
	ins    []bpf.Instruction
	jumps  []jump
	labels map[string]int
}

type jump struct {
	at          int
	true, false string
	always      bool // a bpf.Jump to true
}

func (a *asm) load(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) cond(c bpf.JumpTest, val uint32, t, f string) {
	a.jumps = append(a.jumps, jump{at: len(a.ins), true: t, false: f})
	a.ins = append(a.ins, bpf.JumpIf{Cond: c, Val: val})
}

func (a *asm) jeq(val uint32, t, f string)  { a.cond(bpf.JumpEqual, val, t, f) }
func (a *asm) jset(val uint32, t, f string) { a.cond(bpf.JumpBitsSet, val, t, f) }
func (a *asm) drop() {
	a.jumps = append(a.jumps, jump{at: len(a.ins), true: "drop", always: true})
	a.ins = append(a.ins, bpf.Jump{})
}

// inRange passes the frame if A is in r, and drops it otherwise.
func (a *asm) inRange(r PortRange) {
	a.cond(bpf.JumpGreaterOrEqual, uint32(r.First), "", "drop")
	a.cond(bpf.JumpGreaterThan, uint32(r.Last), "drop", "accept")
}

func (a *asm) resolve() ([]bpf.Instruction, error) {
	for _, j := range a.jumps {
		skip := func(target string) (uint8, error) {
			if target == "" {
				return 0, nil
			}
			to, ok := a.labels[target]
			if !ok {
				return 0, fmt.Errorf("raw: filter: no label %q", target)
			}
			d := to - j.at - 1
			if d < 0 || d > 255 {
				return 0, errors.New("raw: filter: jump out of reach")
			}
			return uint8(d), nil
		}
		if j.always {
			d, err := skip(j.true)
			if err != nil {
				return nil, err
			}
			a.ins[j.at] = bpf.Jump{Skip: uint32(d)}
			continue
		}
		ji := a.ins[j.at].(bpf.JumpIf)
		var err error
		if ji.SkipTrue, err = skip(j.true); err != nil {
			return nil, err
		}
		if ji.SkipFalse, err = skip(j.false); err != nil {
			return nil, err
		}
		a.ins[j.at] = ji
	}
	return a.ins, nil
}
