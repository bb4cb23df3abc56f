package payload

import "encoding/binary"

// l2tpProbe is a Start-Control-Connection-Request (SCCRQ, RFC 2661 §6.1)
// with the mandatory AVPs: Message Type, Protocol Version, Host Name,
// Framing Capabilities and Assigned Tunnel ID. The peer's answer (SCCRP,
// StopCCN or a bare acknowledgement) is addressed to the tunnel id we
// assigned, which the matcher checks.
func l2tpProbe(r *stream) Probe {
	tunnel := r.u16()
	// AVP (RFC 2661 §4.1): M bit and 10-bit length, vendor 0, type, value.
	avp := func(b []byte, typ uint16, val []byte) []byte {
		b = binary.BigEndian.AppendUint16(b, 0x8000|uint16(6+len(val)))
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, typ)
		return append(b, val...)
	}
	// Control header (RFC 2661 §3.1): T, L and S bits, version 2, length,
	// tunnel id 0, session id 0, Ns 0, Nr 0.
	b := make([]byte, 12, 64)
	binary.BigEndian.PutUint16(b[0:], 0xc802)
	b = avp(b, 0, []byte{0, 1})                               // Message Type: SCCRQ (§4.4.1)
	b = avp(b, 2, []byte{1, 0})                               // Protocol Version 1.0 (§4.4.3)
	b = avp(b, 3, []byte{0, 0, 0, 3})                         // Framing Capabilities: sync and async (§4.4.3)
	b = avp(b, 7, []byte("portscan"))                         // Host Name (§4.4.3)
	b = avp(b, 9, binary.BigEndian.AppendUint16(nil, tunnel)) // Assigned Tunnel ID (§4.4.3)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return Probe{
		Name:    "l2tp-sccrq",
		RFC:     "RFC 2661 §6.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 6 {
				return false, "l2tp reply too short"
			}
			flags := be16(reply, 0)
			if flags&0x8000 == 0 {
				return false, "l2tp data message, not control"
			}
			if flags&0x000f != 2 {
				return false, "l2tp reply with another version"
			}
			off := 2
			if flags&0x4000 != 0 {
				off += 2 // length field
			}
			if len(reply) < off+2 || be16(reply, off) != tunnel {
				return false, "l2tp tunnel id mismatch"
			}
			return true, "l2tp-response tunnel-id match"
		},
	}
}
