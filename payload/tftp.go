package payload

// tftpProbe is a read request (RRQ, RFC 1350 §5) in octet mode for a file
// that should not exist. Servers answer with ERROR (file not found, access
// violation) or, if the file exists, the first DATA block.
//
// RFC 1350 §4 has the server answer from a new port (its transfer id), not
// from port 69; the engine must accept that reply from any port of the
// probed address to see it at all.
func tftpProbe(*stream) Probe {
	b := []byte{0, 1} // opcode RRQ
	b = append(b, "portscan.probe"...)
	b = append(b, 0)
	b = append(b, "octet"...)
	b = append(b, 0)
	return Probe{
		Name:    "tftp-rrq",
		RFC:     "RFC 1350 §5",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 4 {
				return false, "tftp reply too short"
			}
			switch be16(reply, 0) {
			case 3: // DATA
				if be16(reply, 2) != 1 {
					return false, "tftp data is not block 1"
				}
			case 5: // ERROR
			case 6: // OACK, RFC 2347 §1
			default:
				return false, "tftp reply with an unexpected opcode"
			}
			return true, "tftp-response"
		},
	}
}
