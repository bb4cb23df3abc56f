package detect

import (
	"encoding/binary"
	"fmt"

	"github.com/portscan/portscan/result"
)

// SMB (MS-SMB2; MS-CIFS for SMB1) over direct TCP on 445, where each
// message has a four-byte header, a zero and a 24-bit length (MS-SMB2
// §2.1), and over the NetBIOS session service on 139 (RFC 1002 §4.3),
// which wants a session request before any message. Names as nmap's:
// "microsoft-ds" on 445, "netbios-ssn" on 139.
//
// On 445 the probe is an SMB2 NEGOTIATE offering every dialect from 2.0.2
// to 3.1.1; the answer's dialect and security mode go into Info (SMB2
// does not name the server's product). An SMB1-only server answers it
// with an SMB1 error, which still names the service. On 139 the probe is
// the session request; the answer is a positive or negative session
// response.
func init() {
	Register(&Protocol{
		Name:         "microsoft-ds",
		Ports:        []uint16{445},
		Probe:        smbProbe,
		Match:        matchSMB,
		MatchRequest: matchSMBRequest,
	})
	Register(&Protocol{
		Name:  "netbios-ssn",
		Ports: []uint16{139},
		Probe: nbssProbe,
		Match: matchNBSS,
	})
}

// smbDialects are offered in the NEGOTIATE (MS-SMB2 §2.2.3).
var smbDialects = []uint16{0x0202, 0x0210, 0x0300, 0x0302, 0x0311}

// smbProbe builds the SMB2 NEGOTIATE request (MS-SMB2 §2.2.2, §2.2.3).
// Offering 3.1.1 needs a preauthentication integrity context (§2.2.3.1.1,
// §3.3.5.4); an encryption context (§2.2.3.1.2) is added as Windows
// clients send one.
func smbProbe(string) []byte {
	le16 := binary.LittleEndian.AppendUint16
	le32 := binary.LittleEndian.AppendUint32
	// The 64-byte SYNC header: ProtocolId, StructureSize 64, no credit
	// charge, status 0, command NEGOTIATE (0), one credit asked for.
	m := []byte{0xfe, 'S', 'M', 'B'}
	m = le16(m, 64)
	m = le16(m, 0)
	m = le32(m, 0)
	m = le16(m, 0) // Command
	m = le16(m, 1) // CreditRequest
	m = le32(m, 0) // Flags
	m = le32(m, 0) // NextCommand
	m = append(m, make([]byte, 8+4+4+8+16)...)
	// NEGOTIATE: StructureSize 36, dialects, signing enabled, a fixed
	// ClientGuid, then the contexts after the dialects, 8-aligned.
	m = le16(m, 36)
	m = le16(m, uint16(len(smbDialects)))
	m = le16(m, 1) // SecurityMode: SIGNING_ENABLED
	m = le16(m, 0)
	m = le32(m, 0) // Capabilities
	m = append(m, "portscan-detect!"...)
	ctxOff := len(m) + 8 + 2*len(smbDialects)
	ctxOff = (ctxOff + 7) &^ 7
	m = le32(m, uint32(ctxOff))
	m = le16(m, 2) // NegotiateContextCount
	m = le16(m, 0)
	for _, d := range smbDialects {
		m = le16(m, d)
	}
	for len(m) < ctxOff {
		m = append(m, 0)
	}
	// SMB2_PREAUTH_INTEGRITY_CAPABILITIES: SHA-512, a 32-byte salt.
	m = le16(m, 1)
	m = le16(m, 38)
	m = le32(m, 0)
	m = le16(m, 1)
	m = le16(m, 32)
	m = le16(m, 1)
	m = append(m, "portscan-preauth-salt-32-bytes!!"...)
	for len(m)%8 != 0 {
		m = append(m, 0)
	}
	// SMB2_ENCRYPTION_CAPABILITIES: AES-128-GCM, AES-128-CCM.
	m = le16(m, 2)
	m = le16(m, 6)
	m = le32(m, 0)
	m = le16(m, 2)
	m = le16(m, 2)
	m = le16(m, 1)
	return append([]byte{0, byte(len(m) >> 16), byte(len(m) >> 8), byte(len(m))}, m...)
}

// smbMessage reads the direct-TCP / session message header and returns
// the SMB message, as far as it is there.
func smbMessage(got []byte) (msg []byte, ok, more bool) {
	if len(got) == 0 {
		return nil, false, true
	}
	if got[0] != 0 {
		return nil, false, false
	}
	if len(got) < 4 {
		return nil, false, true
	}
	n := int(got[1])<<16 | int(got[2])<<8 | int(got[3])
	if n < 32 {
		return nil, false, false
	}
	msg = got[4:min(len(got), 4+n)]
	for i, c := range msg[:min(len(msg), 4)] {
		if (i == 0 && c != 0xfe && c != 0xff) || (i > 0 && c != "SMB"[i-1]) {
			return nil, false, false
		}
	}
	if len(msg) < 4 {
		return nil, false, true
	}
	return msg, true, false
}

// smbDialectName spells a dialect as MS-SMB2 does ("3.1.1").
func smbDialectName(d uint16) string {
	switch d {
	case 0x0202:
		return "2.0.2"
	case 0x0210:
		return "2.1"
	case 0x02ff:
		return "2.???"
	case 0x0300:
		return "3.0"
	case 0x0302:
		return "3.0.2"
	case 0x0311:
		return "3.1.1"
	}
	return fmt.Sprintf("0x%04x", d)
}

// smbService reads an SMB2 NEGOTIATE response (MS-SMB2 §2.2.4) or any
// SMB1 response (MS-CIFS §2.2.3.1) into a Service named name.
func smbService(msg octets, name string) (result.Service, bool, bool) {
	svc := result.Service{Name: name, Confidence: 10}
	if msg[0] == 0xff {
		// SMB1: Command at 4, Status at 5, Flags at 9, with the reply
		// bit (0x80) set.
		flags, ok := msg.u8(9)
		if !ok {
			return result.Service{}, false, len(msg) < 32
		}
		if flags&0x80 == 0 {
			return result.Service{}, false, false
		}
		svc.Info = "SMBv1"
		return svc, true, false
	}
	size, ok1 := msg.le16(4)
	cmd, ok2 := msg.le16(12)
	flags, ok3 := msg.le32(16)
	if !ok1 || !ok2 || !ok3 {
		return result.Service{}, false, true
	}
	if size != 64 || flags&1 == 0 { // SMB2_FLAGS_SERVER_TO_REDIR
		return result.Service{}, false, false
	}
	status, _ := msg.le32(8)
	if cmd != 0 || status != 0 {
		svc.Confidence = 8
		svc.Info = fmt.Sprintf("SMB2 status 0x%08x", status)
		return svc, true, false
	}
	bsize, ok1 := msg.le16(64)
	secMode, ok2 := msg.le16(66)
	dialect, ok3 := msg.le16(68)
	if !ok1 || !ok2 || !ok3 {
		return svc, true, false
	}
	if bsize != 65 {
		return result.Service{}, false, false
	}
	signing := "message signing enabled but not required"
	if secMode&2 != 0 {
		signing = "message signing enabled and required"
	}
	svc.Info = joinInfo("SMB dialect "+smbDialectName(dialect), signing)
	return svc, true, false
}

func matchSMB(got []byte) (result.Service, bool, bool) {
	msg, ok, more := smbMessage(got)
	if !ok {
		return result.Service{}, false, more
	}
	return smbService(msg, "microsoft-ds")
}

// nbssProbe is a SESSION REQUEST (RFC 1002 §4.3.2) to the name
// "*SMBSERVER", which Windows and Samba accept whatever their NetBIOS
// name, from "PORTSCAN".
func nbssProbe(string) []byte {
	b := []byte{0x81, 0, 0, 68}
	b = append(b, netbiosName("*SMBSERVER", 0x20)...)
	return append(b, netbiosName("PORTSCAN", 0x00)...)
}

// netbiosName encodes a NetBIOS name: padded with spaces to 15 bytes and
// the suffix, each half-byte 'A' plus its value (RFC 1001 §14.1), as a
// label with no scope.
func netbiosName(name string, suffix byte) []byte {
	var raw [16]byte
	for i := range raw {
		raw[i] = ' '
	}
	copy(raw[:15], name)
	raw[15] = suffix
	out := []byte{32}
	for _, c := range raw {
		out = append(out, 'A'+c>>4, 'A'+c&0x0f)
	}
	return append(out, 0)
}

// nbssErrors are the error codes of a NEGATIVE SESSION RESPONSE (RFC
// 1002 §4.3.4).
var nbssErrors = map[byte]string{
	0x80: "not listening on called name", 0x81: "not listening for calling name",
	0x82: "called name not present", 0x83: "insufficient resources",
	0x8f: "unspecified error",
}

func matchNBSS(got []byte) (result.Service, bool, bool) {
	if len(got) == 0 {
		return result.Service{}, false, true
	}
	svc := result.Service{Name: "netbios-ssn", Confidence: 10}
	switch got[0] {
	case 0x82: // POSITIVE SESSION RESPONSE: flags 0, length 0
		if isPrefixOf(got, "\x82\x00\x00\x00") {
			return result.Service{}, false, true
		}
		if got[1] != 0 || got[2] != 0 || got[3] != 0 {
			return result.Service{}, false, false
		}
		svc.Info = "session accepted"
		return svc, true, false
	case 0x83: // NEGATIVE SESSION RESPONSE: length 1, the error code
		if isPrefixOf(got, "\x83\x00\x00\x01") {
			return result.Service{}, false, true
		}
		if got[1] != 0 || got[2] != 0 || got[3] != 1 {
			return result.Service{}, false, false
		}
		if len(got) < 5 {
			return result.Service{}, false, true
		}
		e, ok := nbssErrors[got[4]]
		if !ok {
			return result.Service{}, false, false
		}
		svc.Info = "session refused: " + e
		return svc, true, false
	case 0x00: // a server that skips the session service
		msg, ok, more := smbMessage(got)
		if !ok {
			return result.Service{}, false, more
		}
		return smbService(msg, "netbios-ssn")
	}
	return result.Service{}, false, false
}

// matchSMBRequest reads a client's first message: an SMB1 or SMB2
// NEGOTIATE on direct TCP, or a NetBIOS session request.
func matchSMBRequest(sent []byte) (result.Service, bool) {
	if len(sent) >= 4 && sent[0] == 0x81 && sent[1] == 0 && int(sent[2])<<8|int(sent[3]) == 68 {
		return result.Service{Name: "netbios-ssn", Confidence: 10}, true
	}
	msg, ok, _ := smbMessage(sent)
	if !ok {
		return result.Service{}, false
	}
	m := octets(msg)
	switch msg[0] {
	case 0xff:
		if cmd, ok := m.u8(4); ok && cmd == 0x72 {
			return result.Service{Name: "microsoft-ds", Confidence: 10}, true
		}
	case 0xfe:
		size, ok1 := m.le16(4)
		cmd, ok2 := m.le16(12)
		if ok1 && ok2 && size == 64 && cmd == 0 {
			return result.Service{Name: "microsoft-ds", Confidence: 10}, true
		}
	}
	return result.Service{}, false
}
