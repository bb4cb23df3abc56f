package payload

import "encoding/binary"

// kerberosRealm is the realm the AS-REQ names. A KDC serves some other
// realm and says so in a KRB-ERROR, which is all a scan needs.
const kerberosRealm = "PORTSCAN.INVALID"

// kerberosProbe is an AS-REQ (RFC 4120 §5.4.1) for a ticket-granting
// ticket for the client "portscan" in realm PORTSCAN.INVALID, without
// pre-authentication. A KDC answers with KRB-ERROR (§5.9.1: wrong realm,
// unknown principal, pre-authentication required) or, for a principal that
// exists and needs no pre-authentication, an AS-REP (§5.4.2). The random
// nonce of the request comes back only inside the AS-REP's encrypted part,
// so the matcher checks the message type and protocol version only.
func kerberosProbe(r *stream) Probe {
	nonce := int64(r.next() & 0x7fffffff) // UInt32, kept positive for old KDCs
	principal := func(nameType int64, names ...string) []byte {
		var strs [][]byte
		for _, n := range names {
			strs = append(strs, berStr(tagGeneralStr, n))
		}
		return tlv(tagSequence, // PrincipalName, §5.2.2
			tlv(ctx(0), berInt(tagInteger, nameType)),
			tlv(ctx(1), tlv(tagSequence, strs...)),
		)
	}
	var opts [4]byte
	binary.BigEndian.PutUint32(opts[:], 0x40000010) // forwardable, renewable-ok (§5.4.1)
	body := tlv(tagSequence,                        // KDC-REQ-BODY
		tlv(ctx(0), tlv(tagBitString, []byte{0}, opts[:])),
		tlv(ctx(1), principal(1, "portscan")), // NT-PRINCIPAL
		tlv(ctx(2), berStr(tagGeneralStr, kerberosRealm)),
		tlv(ctx(3), principal(2, "krbtgt", kerberosRealm)), // NT-SRV-INST
		tlv(ctx(5), berStr(tagGeneralTime, "20370913024805Z")),
		tlv(ctx(7), berInt(tagInteger, nonce)),
		tlv(ctx(8), tlv(tagSequence, // etype: RFC 3962 AES, RFC 8009 AES-SHA2, RFC 4757 RC4
			berInt(tagInteger, 18),
			berInt(tagInteger, 17),
			berInt(tagInteger, 20),
			berInt(tagInteger, 19),
			berInt(tagInteger, 23),
		)),
	)
	b := tlv(app(10), tlv(tagSequence, // AS-REQ ::= [APPLICATION 10] KDC-REQ
		tlv(ctx(1), berInt(tagInteger, 5)),  // pvno
		tlv(ctx(2), berInt(tagInteger, 10)), // msg-type KRB_AS_REQ
		tlv(ctx(4), body),
	))
	return Probe{
		Name:    "kerberos-as-req",
		RFC:     "RFC 4120 §5.4.1",
		Payload: b,
		Match:   matchKerberos,
	}
}

// matchKerberos accepts an AS-REP ([APPLICATION 11], pvno at [0], msg-type
// 11 at [1]) or a KRB-ERROR ([APPLICATION 30], the same with msg-type 30).
func matchKerberos(reply []byte) (bool, string) {
	top := berReader{reply}
	tag, outer, ok := top.next()
	if !ok || (tag != app(11) && tag != app(30)) {
		return false, "not a kerberos reply"
	}
	want := int64(11)
	if tag == app(30) {
		want = 30
	}
	rd := berReader{outer}
	seq, ok := rd.expect(tagSequence)
	if !ok {
		return false, "not a kerberos reply"
	}
	fr := berReader{seq}
	pvno, ok := fr.expect(ctx(0))
	if !ok {
		return false, "kerberos reply without pvno"
	}
	if v, ok := (&berReader{pvno}).integer(); !ok || v != 5 {
		return false, "kerberos reply with another protocol version"
	}
	mt, ok := fr.expect(ctx(1))
	if !ok {
		return false, "kerberos reply without msg-type"
	}
	if v, ok := (&berReader{mt}).integer(); !ok || v != want {
		return false, "kerberos reply with a msg-type that contradicts its tag"
	}
	if want == 30 {
		return true, "kerberos-error"
	}
	return true, "kerberos-as-rep"
}
