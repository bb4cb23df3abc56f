package result

import (
	"testing"

	"github.com/portscan/portscan/ports"
)

func TestICMPClassify(t *testing.T) {
	v4 := []struct {
		code   uint8
		what   string // the code's meaning, from its RFC
		reason string
	}{
		{0, "net unreachable (RFC 792)", ReasonNetUnreach},
		{1, "host unreachable (RFC 792)", ReasonHostUnreach},
		{2, "protocol unreachable (RFC 792)", ReasonProtoUnreach},
		{3, "port unreachable (RFC 792)", ReasonPortUnreach},
		{4, "fragmentation needed and DF set (RFC 792)", ReasonDestUnreach},
		{5, "source route failed (RFC 792)", ReasonDestUnreach},
		{6, "destination network unknown (RFC 1122)", ReasonNetUnreach},
		{7, "destination host unknown (RFC 1122)", ReasonHostUnreach},
		{8, "source host isolated (RFC 1122)", ReasonDestUnreach},
		{9, "network administratively prohibited (RFC 1122)", ReasonNetProhibited},
		{10, "host administratively prohibited (RFC 1122)", ReasonHostProhibited},
		{11, "network unreachable for TOS (RFC 1122)", ReasonNetUnreach},
		{12, "host unreachable for TOS (RFC 1122)", ReasonHostUnreach},
		{13, "communication administratively prohibited (RFC 1812)", ReasonAdminProhibited},
		{14, "host precedence violation (RFC 1812)", ReasonDestUnreach},
		{15, "precedence cutoff in effect (RFC 1812)", ReasonDestUnreach},
		{16, "unassigned", ReasonDestUnreach},
		{255, "unassigned", ReasonDestUnreach},
	}
	v6 := []struct {
		code   uint8
		what   string
		reason string
	}{
		{0, "no route to destination (RFC 4443)", ReasonNoRoute},
		{1, "communication administratively prohibited (RFC 4443)", ReasonAdminProhibited},
		{2, "beyond scope of source address (RFC 4443)", ReasonBeyondScope},
		{3, "address unreachable (RFC 4443)", ReasonHostUnreach},
		{4, "port unreachable (RFC 4443)", ReasonPortUnreach},
		{5, "source address failed ingress/egress policy (RFC 4443)", ReasonAdminProhibited},
		{6, "reject route to destination (RFC 4443)", ReasonRejectRoute},
		{7, "error in source routing header (RFC 6550)", ReasonDestUnreach},
		{8, "headers too long (RFC 8883)", ReasonDestUnreach},
	}
	type want struct {
		state  State
		reason string
	}
	check := func(t *testing.T, m ICMP, reason string) {
		t.Helper()
		for _, proto := range []ports.Protocol{ports.TCP, ports.UDP} {
			for _, from := range []bool{true, false} {
				m.FromTarget = from
				w := want{Filtered, reason}
				if reason == ReasonPortUnreach && proto == ports.UDP && from {
					w.state = Closed // only the target itself can say its UDP port is closed
				}
				state, got := m.Classify(proto)
				if (want{state, got}) != w {
					t.Errorf("%s, from target %v: %v %s, want %v %s", proto, from, state, got, w.state, w.reason)
				}
			}
		}
	}
	for _, tc := range v4 {
		t.Run("icmp/"+tc.what, func(t *testing.T) { check(t, ICMP{Type: ICMPv4Unreach, Code: tc.code}, tc.reason) })
	}
	for _, tc := range v6 {
		t.Run("icmp6/"+tc.what, func(t *testing.T) { check(t, ICMP{V6: true, Type: ICMPv6Unreach, Code: tc.code}, tc.reason) })
	}
	t.Run("time exceeded", func(t *testing.T) {
		check(t, ICMP{Type: ICMPv4TimeExceeded}, ReasonTimeExceeded)
		check(t, ICMP{V6: true, Type: ICMPv6TimeExceeded, Code: 1}, ReasonTimeExceeded)
	})
	t.Run("other errors", func(t *testing.T) {
		check(t, ICMP{Type: 12}, ReasonICMPError)          // parameter problem
		check(t, ICMP{V6: true, Type: 4}, ReasonICMPError) // parameter problem
		// Types are read in their own family: 3 is time exceeded in ICMPv6,
		// 1 is no error in ICMPv4.
		check(t, ICMP{V6: true, Type: ICMPv4Unreach, Code: 3}, ReasonTimeExceeded)
		check(t, ICMP{Type: ICMPv6Unreach, Code: 4}, ReasonICMPError)
	})
}
