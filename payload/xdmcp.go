package payload

// xdmcpProbe is an XDMCP Query with no authentication names. XDMCP is not
// an RFC: it is defined by the X Consortium's "X Display Manager Control
// Protocol", version 1.1, section "Display Manager Protocol Specification"
// (header: version, opcode, length, all CARD16; Query = 2; the body is an
// ARRAYofARRAY8 whose CARD8 count is 0). A display manager answers Willing
// (5) or Unwilling (6); neither carries an id.
func xdmcpProbe(*stream) Probe {
	return Probe{
		Name:    "xdmcp-query",
		RFC:     "XDMCP 1.1 (X Consortium), Query",
		Payload: []byte{0, 1, 0, 2, 0, 1, 0},
		Match: func(reply []byte) (bool, string) {
			if len(reply) < 6 {
				return false, "xdmcp reply too short"
			}
			if be16(reply, 0) != 1 {
				return false, "xdmcp reply with another version"
			}
			if op := be16(reply, 2); op != 5 && op != 6 {
				return false, "xdmcp reply is neither Willing nor Unwilling"
			}
			if int(be16(reply, 4)) > len(reply)-6 {
				return false, "xdmcp reply shorter than its length"
			}
			return true, "xdmcp-response"
		},
	}
}
