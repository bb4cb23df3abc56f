package payload

import "encoding/binary"

// slpProbe is an SLPv2 Service Request (RFC 2608 §8.1) for the service
// type "service:service-agent" in scope DEFAULT, sent unicast: a Service
// Agent answers with an SAAdvert, a Directory Agent with a DAAdvert or a
// Service Reply, and every answer repeats the request's XID (§8).
func slpProbe(r *stream) Probe {
	xid := r.u16()
	const lang = "en"
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(b, s...)
	}
	// Header (RFC 2608 §8): version, function, 24-bit length, flags,
	// 24-bit next-extension offset, XID, language tag.
	b := []byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[10:], xid)
	b = str(b, lang)
	b = str(b, "")                      // previous responder list
	b = str(b, "service:service-agent") // service type
	b = str(b, "DEFAULT")               // scope list
	b = str(b, "")                      // predicate
	b = str(b, "")                      // SLP SPI
	b[2], b[3], b[4] = byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
	return Probe{
		Name:    "slp-srvrqst",
		RFC:     "RFC 2608 §8.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 14 {
				return false, "slp reply too short"
			}
			if reply[0] != 2 {
				return false, "slp reply with another version"
			}
			switch reply[1] {
			case 2, 8, 11: // SrvRply, DAAdvert, SAAdvert
			default:
				return false, "slp message is not a reply to a service request"
			}
			if be16(reply, 10) != xid {
				return false, "slp xid mismatch"
			}
			return true, "slp-response xid match"
		},
	}
}
