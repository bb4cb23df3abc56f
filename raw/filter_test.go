package raw

import (
	"testing"

	"golang.org/x/net/bpf"
)

func TestFilter(t *testing.T) {
	ours := PortRange{First: 61000, Last: 61063}
	syn4 := probeDatagram(t, us4, them4, 61000, 22, 7)
	syn6 := probeDatagram(t, us6, them6, 61063, 22, 7)
	theirs4 := probeDatagram(t, us4, them4, 40000, 22, 7)
	udp4 := append([]byte(nil), syn4...)
	udp4[9] = 17 // the quoted protocol: UDP
	frag := reply(t, them4, us4, 22, 61000, FlagSYN|FlagACK, 1, 8)
	udpTo4 := reply(t, them4, us4, 22, 61000, FlagSYN|FlagACK, 1, 8)
	udpTo4[ethLen+9] = 17 // UDP to a port of ours: PingFilter's, not Filter's
	udpTo6 := reply(t, them6, us6, 22, 61000, FlagSYN|FlagACK, 1, 8)
	udpTo6[ethLen+6] = 17
	frag[ethLen+7] = 8 // a fragment offset: not the first fragment

	tests := []struct {
		name     string
		frame    []byte
		tcp      bool // passed with TCPPorts set
		neigh    bool // passed with Neighbors set
		withBoth bool
	}{
		{name: "syn-ack to the first port", frame: reply(t, them4, us4, 22, 61000, FlagSYN|FlagACK, 1, 8), tcp: true},
		{name: "rst to the last port", frame: reply(t, them4, us4, 22, 61063, FlagRST|FlagACK, 0, 8), tcp: true},
		{name: "below the range", frame: reply(t, them4, us4, 22, 60999, FlagSYN|FlagACK, 1, 8)},
		{name: "above the range", frame: reply(t, them4, us4, 22, 61064, FlagSYN|FlagACK, 1, 8)},
		{name: "from a port of ours to another", frame: reply(t, them4, us4, 61000, 40000, FlagSYN|FlagACK, 1, 8)},
		{name: "IPv4 options", frame: withIPOptions(t, reply(t, them4, us4, 22, 61001, FlagSYN|FlagACK, 1, 8)), tcp: true},
		{name: "IPv4 options, port outside", frame: withIPOptions(t, reply(t, them4, us4, 22, 40000, FlagSYN|FlagACK, 1, 8))},
		{name: "IPv4 later fragment", frame: frag},
		{name: "UDP to a port of ours", frame: udpTo4},
		{name: "IPv6 UDP to a port of ours", frame: udpTo6},
		{name: "IPv6 syn-ack", frame: reply(t, them6, us6, 22, 61010, FlagSYN|FlagACK, 1, 8), tcp: true},
		{name: "IPv6 outside", frame: reply(t, them6, us6, 22, 1000, FlagSYN|FlagACK, 1, 8)},
		{name: "ICMP port unreachable quoting our probe", frame: icmpError(t, them4, us4, 3, 3, syn4, 28), tcp: true},
		{name: "ICMP admin-prohibited from a router", frame: icmpError(t, router4, us4, 3, 13, syn4, -1), tcp: true},
		{name: "ICMP time exceeded", frame: icmpError(t, router4, us4, 11, 0, syn4, -1), tcp: true},
		{name: "ICMP quoting another port", frame: icmpError(t, them4, us4, 3, 3, theirs4, -1)},
		{name: "ICMP quoting UDP", frame: icmpError(t, them4, us4, 3, 3, udp4, -1)},
		{name: "ICMP echo reply", frame: icmpError(t, them4, us4, 0, 0, syn4, -1)},
		{name: "ICMP redirect", frame: icmpError(t, router4, us4, 5, 1, syn4, -1)},
		{name: "ICMP quoting our probe, too short", frame: icmpError(t, them4, us4, 3, 3, syn4, 21)},
		{name: "ICMP quoting an IPv4 header with options", frame: icmpError(t, them4, us4, 3, 1, withIPOptions(t, reply(t, us4, them4, 61002, 22, FlagSYN, 1, 0))[ethLen:], -1), tcp: true},
		{name: "ICMPv6 unreachable quoting our probe", frame: icmpError(t, them6, us6, 1, 4, syn6, -1), tcp: true},
		{name: "ICMPv6 time exceeded", frame: icmpError(t, them6, us6, 3, 0, syn6, -1), tcp: true},
		{name: "ICMPv6 packet too big", frame: icmpError(t, them6, us6, 2, 0, syn6, -1)},
		{name: "ARP reply", frame: arpReply(t, 2), neigh: true},
		{name: "ARP request", frame: arpReply(t, 1)},
		{name: "neighbour advertisement", frame: neighborAdvert(t, true), neigh: true},
		{name: "truncated Ethernet", frame: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08}},
		{name: "truncated TCP", frame: reply(t, them4, us4, 22, 61000, FlagSYN|FlagACK, 1, 8)[:ethLen+20+2]},
		{name: "empty", frame: nil},
	}
	filters := []struct {
		name string
		f    Filter
		want func(tcp, neigh bool) bool
	}{
		{"tcp", Filter{TCPPorts: &ours}, func(tcp, _ bool) bool { return tcp }},
		{"neighbors", Filter{Neighbors: true}, func(_, neigh bool) bool { return neigh }},
		{"both", Filter{TCPPorts: &ours, Neighbors: true}, func(tcp, neigh bool) bool { return tcp || neigh }},
		{"none", Filter{}, func(bool, bool) bool { return false }},
	}
	for _, f := range filters {
		prog, err := f.f.Program()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				n, err := vm.Run(tt.frame)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := n > 0, f.want(tt.tcp, tt.neigh); got != want {
					t.Errorf("passed %v, want %v", got, want)
				}
			})
		}
	}
}

func TestFilterEmptyRange(t *testing.T) {
	if _, err := (Filter{TCPPorts: &PortRange{First: 2, Last: 1}}).Program(); err == nil {
		t.Error("an empty port range assembled")
	}
}
