package payload

import "encoding/binary"

// DNS and the NetBIOS name service share the header of RFC 1035 §4.1.1.

// dnsProbe asks for the TXT record "version.bind" in class CHAOS, the name
// under which servers since BIND 4 report their version. Servers that do not
// answer it still reply (REFUSED, NOTIMP), which is all a scan needs.
func dnsProbe(r *stream) Probe {
	id := r.u16()
	b := make([]byte, 12, 30)
	binary.BigEndian.PutUint16(b[0:], id)
	// Flags 0: a standard query (QR=0, OPCODE=0), no recursion wanted.
	binary.BigEndian.PutUint16(b[4:], 1) // QDCOUNT
	// QNAME as labels (RFC 1035 §3.1), QTYPE TXT (16), QCLASS CH (3),
	// §3.2.2 and §3.2.4.
	b = append(b, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0)
	b = append(b, 0, 16, 0, 3)
	return Probe{
		Name:    "dns-version-bind",
		RFC:     "RFC 1035 §4.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			return matchDNSHeader(reply, id, &dnsReasons)
		},
	}
}

// headerReasons are the reasons matchDNSHeader gives, spelled out per
// protocol so that matching never builds a string.
type headerReasons struct{ short, query, opcode, mismatch, match string }

var (
	dnsReasons  = headerReasons{"dns reply too short", "dns query, not a response", "dns response with another opcode", "dns id mismatch", "dns-response id match"}
	nbnsReasons = headerReasons{"nbns reply too short", "nbns query, not a response", "nbns response with another opcode", "nbns id mismatch", "nbns-response id match"}
)

// matchDNSHeader checks that reply is a response (QR=1) to a standard
// query (OPCODE 0) with the given id.
func matchDNSHeader(reply []byte, id uint16, why *headerReasons) (bool, string) {
	if len(reply) < 12 {
		return false, why.short
	}
	flags := reply[2]
	if flags&0x80 == 0 {
		return false, why.query
	}
	if flags&0x78 != 0 {
		return false, why.opcode
	}
	if be16(reply, 0) != id {
		return false, why.mismatch
	}
	return true, why.match
}

// nbnsProbe is a NODE STATUS REQUEST for the wildcard name "*" (RFC 1002
// §4.2.17), which every NetBIOS node answers with its name table.
func nbnsProbe(r *stream) Probe {
	id := r.u16()
	b := make([]byte, 12, 50)
	binary.BigEndian.PutUint16(b[0:], id)
	// OPCODE query, NM_FLAGS 0 (unicast, no recursion): RFC 1002 §4.2.1.1.
	binary.BigEndian.PutUint16(b[4:], 1) // QDCOUNT
	// "*" padded with NULs to 16 bytes, then the first-level encoding of
	// RFC 1001 §14.1: each half-byte becomes 'A' plus its value.
	var name [16]byte
	name[0] = '*'
	b = append(b, 32)
	for _, c := range name {
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	b = append(b, 0)
	b = append(b, 0, 0x21, 0, 1) // QUESTION_TYPE NBSTAT, QUESTION_CLASS IN
	return Probe{
		Name:    "nbns-node-status",
		RFC:     "RFC 1002 §4.2.17",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			return matchDNSHeader(reply, id, &nbnsReasons)
		},
	}
}
