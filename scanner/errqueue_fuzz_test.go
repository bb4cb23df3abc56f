//go:build linux

package scanner

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// errQueueMsg builds the control message an IP_RECVERR read returns: a
// sock_extended_err for an ICMP error of type and code, then the
// offender's sockaddr_in.
func errQueueMsg(typ, code uint8, from [4]byte) []byte {
	data := make([]byte, 16+unix.SizeofSockaddrInet4)
	data[4], data[5], data[6] = unix.SO_EE_ORIGIN_ICMP, typ, code
	binary.NativeEndian.PutUint16(data[16:], unix.AF_INET)
	copy(data[20:24], from[:])
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_RECVERR
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestParseErrQueue(t *testing.T) {
	tests := []struct {
		typ, code uint8
		udp       bool
		want      string
	}{
		{3, 3, true, "closed port-unreach"},
		{3, 3, false, "filtered port-unreach"},
		{3, 13, true, "filtered admin-prohibited"},
		{3, 1, false, "filtered host-unreach"},
		{3, 0, false, "filtered net-unreach"},
		{11, 0, false, "filtered time-exceeded"},
	}
	// A port unreachable from a router says nothing of the port.
	m, sender, ok := parseErrQueue(errQueueMsg(3, 3, [4]byte{192, 0, 2, 254}), netip.MustParseAddr("192.0.2.7"))
	if v := icmpVerdict(m, sender, ports.UDP); !ok || m.FromTarget || v.state != result.Filtered || v.from != netip.MustParseAddr("192.0.2.254") {
		t.Errorf("port unreachable from a router: %v %s from %v (from target %v), want filtered from 192.0.2.254", v.state, v.reason, v.from, m.FromTarget)
	}
	for _, tt := range tests {
		proto := ports.TCP
		if tt.udp {
			proto = ports.UDP
		}
		from := netip.MustParseAddr("192.0.2.7")
		m, sender, ok := parseErrQueue(errQueueMsg(tt.typ, tt.code, from.As4()), from)
		v := icmpVerdict(m, sender, proto)
		if got := v.state.String() + " " + v.reason; !ok || got != tt.want || !m.FromTarget || v.from.IsValid() {
			t.Errorf("type %d code %d: %q from %v (%v), want %q from 192.0.2.7", tt.typ, tt.code, got, from, ok, tt.want)
		}
	}
}

// FuzzParseErrQueue feeds arbitrary control messages to the reader of
// the ICMP error queue: it must never panic.
func FuzzParseErrQueue(f *testing.F) {
	f.Add(errQueueMsg(3, 3, [4]byte{127, 0, 0, 1}), true)
	f.Add(errQueueMsg(3, 13, [4]byte{10, 0, 0, 1}), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, oob []byte, _ bool) {
		parseErrQueue(oob, netip.IPv4Unspecified())
		offender(oob)
	})
}
