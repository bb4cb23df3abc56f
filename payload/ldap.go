package payload

import "github.com/portscan/portscan/internal/ber"

// cldapProbe is a connectionless LDAP search of the root DSE (RFC 4512
// §5.1): an LDAPMessage (RFC 4511 §4.1.1) carrying a SearchRequest
// (§4.5.1) with base "", scope baseObject and filter (objectClass=*), in
// one datagram. Connectionless LDAP was first RFC 1798 (made historic by
// RFC 3352); the LDAPv3 messages sent over UDP, as Active Directory's
// domain controllers answer them on port 389, are the ones sent over TCP.
// The reply's messageID is the request's.
func cldapProbe(r *stream) Probe {
	msgID := r.pos31()
	search := ber.TLV(ber.App(3), // SearchRequest ::= [APPLICATION 3] SEQUENCE
		ber.String(ber.OctetString, ""), // baseObject: the root DSE
		ber.Int(ber.Enumerated, 0),      // scope: baseObject
		ber.Int(ber.Enumerated, 0),      // derefAliases: never
		ber.Int(ber.Integer, 0),         // sizeLimit
		ber.Int(ber.Integer, 0),         // timeLimit
		ber.TLV(ber.Boolean, []byte{0}), // typesOnly FALSE
		ber.String(0x87, "objectClass"), // Filter present [7]
		ber.TLV(ber.Sequence),           // attributes: all user attributes
	)
	b := ber.TLV(ber.Sequence, ber.Int(ber.Integer, msgID), search)
	return Probe{
		Name:    "cldap-rootdse",
		RFC:     "RFC 4511 §4.5.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			top := ber.Reader{B: reply}
			msg, ok := top.Expect(ber.Sequence)
			if !ok {
				return false, "not an ldap message"
			}
			rd := ber.Reader{B: msg}
			id, ok := rd.Integer()
			if !ok {
				return false, "ldap message without a messageID"
			}
			if id != msgID {
				return false, "ldap messageID mismatch"
			}
			// Then a search result (RFC 4511 §4.5.2, §4.5.3) or an
			// extended response (§4.12); a server that speaks RFC 1798
			// CLDAP puts its "user" DN, an OCTET STRING, before it.
			tag, _, ok := rd.Next()
			if ok && tag == ber.OctetString {
				tag, _, ok = rd.Next()
			}
			if !ok {
				return false, "ldap message without a protocol operation"
			}
			switch tag {
			case ber.App(4), ber.App(5), ber.App(19), ber.App(24): // SearchResultEntry, Done, Reference, ExtendedResponse
			default:
				return false, "ldap message is not a search result"
			}
			return true, "ldap-response messageid match"
		},
	}
}
