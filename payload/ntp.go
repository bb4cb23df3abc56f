package payload

import (
	"bytes"
	"encoding/binary"
)

// ntpProbe is a client-mode request (RFC 5905 §7.3, mode 3, version 4).
// Every field is zero except the transmit timestamp, which carries random
// bits instead of the clock: the server copies it into the origin timestamp
// of its reply (RFC 5905 §8, the xmt to org step), which proves the reply
// answers this request, and a scanner has no clock worth sharing.
func ntpProbe(r *stream) Probe {
	b := make([]byte, 48)
	b[0] = 0<<6 | 4<<3 | 3 // LI 0, VN 4, Mode 3 (client)
	var xmt [8]byte
	binary.BigEndian.PutUint64(xmt[:], r.next())
	copy(b[40:], xmt[:])
	return Probe{
		Name:    "ntp-client",
		RFC:     "RFC 5905 §7.3",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 48 {
				return false, "ntp reply too short"
			}
			switch reply[0] & 7 {
			case 4: // server
			case 3:
				return false, "ntp client request, not a reply"
			default:
				return false, "ntp reply in an unexpected mode"
			}
			if !bytes.Equal(reply[24:32], xmt[:]) {
				return false, "ntp origin timestamp mismatch"
			}
			return true, "ntp-response origin match"
		},
	}
}
