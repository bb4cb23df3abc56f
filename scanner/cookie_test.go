package scanner

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestSipHash checks the implementation against the paper's test vector
// (appendix A: key 00..0f, message 00..0e) and the first vectors of the
// reference implementation's table, messages 00..(n-1).
func TestSipHash(t *testing.T) {
	var key [16]byte
	for i := range key {
		key[i] = byte(i)
	}
	k0, k1 := binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	tests := []struct {
		n    int
		want uint64
	}{
		{15, 0xa129ca6149be45e5},
		{0, 0x726fdb47dd0e0e31},
		{1, 0x74f839c593dc67fd},
		{8, 0x93f5f5799a932462},
	}
	for _, tt := range tests {
		if got := siphash24(k0, k1, msg[:tt.n]); got != tt.want {
			t.Errorf("SipHash-2-4 of %d bytes: %#x, want %#x", tt.n, got, tt.want)
		}
	}
}

func TestCookie(t *testing.T) {
	a, b := netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("198.18.0.1")
	k := cookieKey{1, 2}
	c := k.cookie(a, b, 61000, 22)
	if k.cookie(netip.AddrFrom16(a.As16()), b, 61000, 22) != c {
		t.Error("an IPv4-mapped address hashes apart from its IPv4 address")
	}
	for name, other := range map[string]uint32{
		"another key":         cookieKey{1, 3}.cookie(a, b, 61000, 22),
		"swapped addresses":   k.cookie(b, a, 61000, 22),
		"another source port": k.cookie(a, b, 61001, 22),
		"another port":        k.cookie(a, b, 61000, 23),
	} {
		if other == c {
			t.Errorf("%s gives the same cookie %#x", name, c)
		}
	}
}
