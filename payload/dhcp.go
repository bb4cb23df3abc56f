package payload

import "encoding/binary"

// dhcpProbe is a DHCPINFORM (RFC 2131 §4.4.3): a request for configuration
// only, which, unlike a DHCPDISCOVER, makes no server set an address
// aside. The client hardware address is random; ciaddr (bytes 12-15) is 0
// because the probe cannot know the address it leaves from. Some servers
// then answer the datagram's source; dnsmasq answers only an INFORM whose
// ciaddr is set, so an engine that knows its source address may write it
// there (Match does not look at it).
//
// RFC 2131 §4.1 has servers answer on the client port, 68, not the port a
// request came from: the engine sees the reply only if it sends from and
// listens on that port (SourcePort). Without it, the probe still tells
// closed (ICMP port unreachable) from open|filtered.
func dhcpProbe(r *stream) Probe {
	xid := r.u32()
	mac := r.mac()
	// The fixed BOOTP part (RFC 2131 §2, Figure 1): 236 bytes.
	b := make([]byte, 236, 260)
	b[0] = 1 // op BOOTREQUEST
	b[1] = 1 // htype Ethernet
	b[2] = 6 // hlen
	binary.BigEndian.PutUint32(b[4:], xid)
	copy(b[28:], mac[:]) // chaddr
	// Magic cookie and options (RFC 2131 §3, RFC 2132 §3-§9).
	b = append(b, 99, 130, 83, 99)
	b = append(b, 53, 1, 8)       // DHCP Message Type: DHCPINFORM (RFC 2132 §9.6)
	b = append(b, 55, 3, 1, 3, 6) // Parameter Request List: mask, router, DNS (§9.8)
	b = append(b, 255)            // End (§3.2)
	return Probe{
		Name:       "dhcp-inform",
		RFC:        "RFC 2131 §4.4.3",
		Payload:    b,
		SourcePort: 68,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 240 {
				return false, "dhcp reply too short"
			}
			if reply[0] != 2 {
				return false, "dhcp message is not a BOOTREPLY"
			}
			if be32(reply, 236) != 0x63825363 {
				return false, "dhcp reply without the magic cookie"
			}
			if be32(reply, 4) != xid {
				return false, "dhcp xid mismatch"
			}
			return true, "dhcp-response xid match"
		},
	}
}

// dhcpv6Probe is a DHCPv6 Solicit (RFC 8415 §18.2.1) with the options that
// §16.2 has a server require, and enough to get an Advertise: Client Identifier (a DUID-LL from a
// random hardware address, §11.4), Elapsed Time (§21.9) and an empty IA_NA
// (§21.4). The Advertise or Reply repeats its 24-bit transaction id (§8)
// and goes to the client port, 546 (§7.2).
func dhcpv6Probe(r *stream) Probe {
	xid := uint32(r.next()) & 0xffffff
	mac := r.mac()
	iaid := r.u32()
	opt := func(b []byte, code uint16, val []byte) []byte {
		b = binary.BigEndian.AppendUint16(b, code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
		return append(b, val...)
	}
	b := []byte{1, byte(xid >> 16), byte(xid >> 8), byte(xid)} // SOLICIT
	duid := append([]byte{0, 3, 0, 1}, mac[:]...)              // DUID-LL, hardware type 1
	b = opt(b, 1, duid)                                        // OPTION_CLIENTID
	b = opt(b, 8, []byte{0, 0})                                // OPTION_ELAPSED_TIME
	ia := binary.BigEndian.AppendUint32(nil, iaid)             // IAID, T1 0, T2 0
	ia = append(ia, make([]byte, 8)...)
	b = opt(b, 3, ia)            // OPTION_IA_NA
	b = opt(b, 6, []byte{0, 23}) // OPTION_ORO: DNS servers (RFC 3646 §3)
	return Probe{
		Name:       "dhcpv6-solicit",
		RFC:        "RFC 8415 §18.2.1",
		Payload:    b,
		SourcePort: 546,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 4 {
				return false, "dhcpv6 reply too short"
			}
			if reply[0] != 2 && reply[0] != 7 {
				return false, "dhcpv6 message is neither Advertise nor Reply"
			}
			if uint32(reply[1])<<16|uint32(reply[2])<<8|uint32(reply[3]) != xid {
				return false, "dhcpv6 transaction id mismatch"
			}
			return true, "dhcpv6-response xid match"
		},
	}
}
