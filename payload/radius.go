package payload

import "encoding/binary"

// radiusProbe is an Access-Request (RFC 2865 §4.1) for a user that does not
// exist, with a User-Password that is random bytes (we hold no shared
// secret, so no password could be hidden properly) and the NAS-Identifier
// that §4.1 requires when NAS-IP-Address is absent.
//
// RFC 2865 §3 has servers silently drop requests from clients they do not
// know, so most servers stay silent; one that answers repeats the
// request's Identifier. The Response Authenticator cannot be checked
// without the secret.
func radiusProbe(r *stream) Probe {
	id := byte(r.next())
	attr := func(b []byte, typ byte, val []byte) []byte {
		b = append(b, typ, byte(2+len(val)))
		return append(b, val...)
	}
	b := make([]byte, 20, 64)
	b[0] = 1 // Access-Request
	b[1] = id
	r.fill(b[4:20])                    // Request Authenticator (§3)
	b = attr(b, 1, []byte("portscan")) // User-Name (§5.1)
	var pw [16]byte
	r.fill(pw[:])
	b = attr(b, 2, pw[:])               // User-Password (§5.2)
	b = attr(b, 32, []byte("portscan")) // NAS-Identifier (§5.32)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return Probe{
		Name:    "radius-access-request",
		RFC:     "RFC 2865 §4.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 20 {
				return false, "radius reply too short"
			}
			switch reply[0] {
			case 2, 3, 11: // Access-Accept, Access-Reject, Access-Challenge
			default:
				return false, "radius message is not an access reply"
			}
			if n := int(be16(reply, 2)); n < 20 || n > len(reply) {
				return false, "radius reply with a bad length"
			}
			if reply[1] != id {
				return false, "radius identifier mismatch"
			}
			return true, "radius-response id match"
		},
	}
}
