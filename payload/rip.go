package payload

// ripProbe asks a RIP version 2 router for its whole table (RFC 2453 §3.9.1):
// a Request (command 1) with one entry of address family 0 and metric 16
// (infinity). The router answers from port 520 to the asking port.
func ripProbe(*stream) Probe {
	b := make([]byte, 4+20)
	b[0] = 1 // command Request
	b[1] = 2 // version 2
	// The route entry (RFC 2453 §4): family 0, tag 0, address, mask and
	// next hop 0, metric 16.
	b[4+19] = 16
	return Probe{
		Name:    "rip-request",
		RFC:     "RFC 2453 §3.9.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 4 {
				return false, "rip reply too short"
			}
			if reply[0] != 2 {
				return false, "rip message is not a response"
			}
			if reply[1] != 1 && reply[1] != 2 {
				return false, "rip response with an unknown version"
			}
			return true, "rip-response"
		},
	}
}

// ripngProbe is the RIPng whole-table request (RFC 2080 §2.4.1): one route
// entry with prefix ::/0 and metric 16.
func ripngProbe(*stream) Probe {
	b := make([]byte, 4+20)
	b[0] = 1 // command Request
	b[1] = 1 // version 1
	// The route entry (RFC 2080 §2.1): prefix (16 bytes), route tag (2),
	// prefix length (1), metric (1).
	b[4+19] = 16
	return Probe{
		Name:    "ripng-request",
		RFC:     "RFC 2080 §2.4.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 4 {
				return false, "ripng reply too short"
			}
			if reply[0] != 2 {
				return false, "ripng message is not a response"
			}
			if reply[1] != 1 {
				return false, "ripng response with an unknown version"
			}
			return true, "ripng-response"
		},
	}
}
