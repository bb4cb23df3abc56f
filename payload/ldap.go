package payload

// cldapProbe is a connectionless LDAP search of the root DSE (RFC 4512
// §5.1): an LDAPMessage (RFC 4511 §4.1.1) carrying a SearchRequest
// (§4.5.1) with base "", scope baseObject and filter (objectClass=*), in
// one datagram. Connectionless LDAP was first RFC 1798 (made historic by
// RFC 3352); the LDAPv3 messages sent over UDP, as Active Directory's
// domain controllers answer them on port 389, are the ones sent over TCP.
// The reply's messageID is the request's.
func cldapProbe(r *stream) Probe {
	msgID := r.pos31()
	search := tlv(app(3), // SearchRequest ::= [APPLICATION 3] SEQUENCE
		berStr(tagOctetString, ""),  // baseObject: the root DSE
		berInt(tagEnumerated, 0),    // scope: baseObject
		berInt(tagEnumerated, 0),    // derefAliases: never
		berInt(tagInteger, 0),       // sizeLimit
		berInt(tagInteger, 0),       // timeLimit
		tlv(tagBoolean, []byte{0}),  // typesOnly FALSE
		berStr(0x87, "objectClass"), // Filter present [7]
		tlv(tagSequence),            // attributes: all user attributes
	)
	b := tlv(tagSequence, berInt(tagInteger, msgID), search)
	return Probe{
		Name:    "cldap-rootdse",
		RFC:     "RFC 4511 §4.5.1",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			top := berReader{reply}
			msg, ok := top.expect(tagSequence)
			if !ok {
				return false, "not an ldap message"
			}
			rd := berReader{msg}
			id, ok := rd.integer()
			if !ok {
				return false, "ldap message without a messageID"
			}
			if id != msgID {
				return false, "ldap messageID mismatch"
			}
			// Then a search result (RFC 4511 §4.5.2, §4.5.3) or an
			// extended response (§4.12); a server that speaks RFC 1798
			// CLDAP puts its "user" DN, an OCTET STRING, before it.
			tag, _, ok := rd.next()
			if ok && tag == tagOctetString {
				tag, _, ok = rd.next()
			}
			if !ok {
				return false, "ldap message without a protocol operation"
			}
			switch tag {
			case app(4), app(5), app(19), app(24): // SearchResultEntry, Done, Reference, ExtendedResponse
			default:
				return false, "ldap message is not a search result"
			}
			return true, "ldap-response messageid match"
		},
	}
}
