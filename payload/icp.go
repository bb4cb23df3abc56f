package payload

import "encoding/binary"

// icpProbe is an ICP_OP_QUERY (RFC 2186 §1 format, §2 opcodes) for a URL no cache
// holds. Caches answer MISS, or DENIED to an unknown neighbour; every reply
// carries the query's request number.
func icpProbe(r *stream) Probe {
	reqnum := r.u32()
	url := "http://portscan.invalid/"
	n := 20 + 4 + len(url) + 1
	b := make([]byte, 24, n)
	b[0] = 1 // ICP_OP_QUERY
	b[1] = 2 // version 2
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	binary.BigEndian.PutUint32(b[4:], reqnum)
	// Options, option data and sender address are 0; the payload starts
	// with the requester's address, also 0, then the URL, NUL-terminated.
	b = append(b, url...)
	b = append(b, 0)
	return Probe{
		Name:    "icp-query",
		RFC:     "RFC 2186 §2",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 20 {
				return false, "icp reply too short"
			}
			if reply[1] != 2 {
				return false, "icp reply with another version"
			}
			switch reply[0] {
			case 2, 3, 4, 21, 22, 23: // HIT, MISS, ERR, MISS_NOFETCH, DENIED, HIT_OBJ
			default:
				return false, "icp message is not a reply"
			}
			if be32(reply, 4) != reqnum {
				return false, "icp request number mismatch"
			}
			return true, "icp-response reqnum match"
		},
	}
}
