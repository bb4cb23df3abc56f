package detect

import (
	"bytes"

	"github.com/portscan/portscan/result"
)

// RDP (MS-RDPBCGR). The probe is the client's first PDU, an X.224
// Connection Request (ITU-T X.224 §13.3, in a TPKT of RFC 1006 §6) that
// carries an RDP Negotiation Request (MS-RDPBCGR §2.2.1.1.1) asking for
// TLS or CredSSP; the server answers an X.224 Connection Confirm,
// usually with an RDP Negotiation Response naming the security it chose
// or a Negotiation Failure (§2.2.1.2).
func init() {
	Register(&Protocol{
		Name:         "ms-wbt-server",
		Ports:        []uint16{3389},
		Probe:        rdpProbe,
		Match:        matchRDP,
		MatchRequest: matchRDPRequest,
	})
}

// RDP requestedProtocols / selectedProtocol flags (§2.2.1.1.1).
const (
	rdpProtocolRDP      = 0
	rdpProtocolSSL      = 1
	rdpProtocolHybrid   = 2
	rdpProtocolRDSTLS   = 4
	rdpProtocolHybridEx = 8
)

func rdpProbe(string) []byte {
	// TPKT: version 3, reserved, length 19. X.224 CR: length indicator
	// 14, CR CDT 0xe0, DST-REF 0, SRC-REF 0, class 0. RDP_NEG_REQ: type
	// 1, flags 0, length 8, requestedProtocols SSL|HYBRID.
	return []byte{
		0x03, 0x00, 0x00, 19,
		14, 0xe0, 0, 0, 0, 0, 0,
		0x01, 0x00, 0x08, 0x00, rdpProtocolSSL | rdpProtocolHybrid, 0, 0, 0,
	}
}

// rdpSelected names a selectedProtocol.
var rdpSelected = map[uint32]string{
	rdpProtocolRDP: "standard RDP security", rdpProtocolSSL: "TLS security",
	rdpProtocolHybrid: "CredSSP security", rdpProtocolRDSTLS: "RDSTLS security",
	rdpProtocolHybridEx: "CredSSP with early user authorization",
}

// rdpFailures names the failureCodes of an RDP_NEG_FAILURE (§2.2.1.2.2).
var rdpFailures = map[uint32]string{
	1: "TLS required by server", 2: "TLS not allowed by server",
	3: "no certificate on server", 4: "inconsistent flags",
	5: "CredSSP required by server", 6: "TLS with user authentication required by server",
}

func matchRDP(got []byte) (result.Service, bool, bool) {
	// TPKT version 3, reserved 0, then the length.
	if isPrefixOf(got, "\x03\x00") {
		return result.Service{}, false, true
	}
	if !bytes.HasPrefix(got, []byte("\x03\x00")) {
		return result.Service{}, false, false
	}
	b := octets(got)
	n, ok := b.be16(2)
	li, ok2 := b.u8(4)
	code, ok3 := b.u8(5)
	if !ok || !ok2 || !ok3 {
		return result.Service{}, false, true
	}
	// A CC TPDU (0xd0, the low half the credit, 0 in class 0) whose
	// length indicator fits in the TPKT.
	if n < 11 || n > 1024 || int(li)+5 > int(n) || li < 6 || code&0xf0 != 0xd0 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "ms-wbt-server", Confidence: 8}
	if li < 14 {
		return svc, true, false // an old server: no negotiation data
	}
	typ, ok := b.u8(11)
	length, ok2 := b.le16(13)
	value, ok3 := b.le32(15)
	if !ok || !ok2 || !ok3 {
		return svc, true, false
	}
	if length != 8 {
		return result.Service{}, false, false
	}
	switch typ {
	case 0x02:
		name, known := rdpSelected[value]
		if !known {
			return result.Service{}, false, false
		}
		svc.Info, svc.Confidence = name, 10
	case 0x03:
		name, known := rdpFailures[value]
		if !known {
			return result.Service{}, false, false
		}
		svc.Info, svc.Confidence = name, 10
	default:
		return result.Service{}, false, false
	}
	return svc, true, false
}

// matchRDPRequest reads an X.224 Connection Request in a TPKT: with a
// cookie ("Cookie: mstshash=") or an RDP_NEG_REQ, it is RDP's.
func matchRDPRequest(sent []byte) (result.Service, bool) {
	b := octets(sent)
	n, ok := b.be16(2)
	li, ok2 := b.u8(4)
	code, ok3 := b.u8(5)
	if !ok || !ok2 || !ok3 || sent[0] != 3 || sent[1] != 0 || n < 11 || int(li)+5 > int(n) || code != 0xe0 {
		return result.Service{}, false
	}
	if len(sent) < 11 {
		return result.Service{}, false
	}
	tail := sent[11:max(11, min(len(sent), 5+int(li)))]
	if len(tail) >= 8 && tail[len(tail)-8] == 0x01 && tail[len(tail)-6] == 8 {
		return result.Service{Name: "ms-wbt-server", Confidence: 10}, true
	}
	if len(tail) >= 8 && string(tail[:8]) == "Cookie: " {
		return result.Service{Name: "ms-wbt-server", Confidence: 10}, true
	}
	// A bare CR is ISO transport's in general (Siemens S7 speaks it on
	// 102): not RDP's alone.
	return result.Service{}, false
}
