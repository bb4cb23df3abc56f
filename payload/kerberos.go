package payload

import (
	"encoding/binary"

	"github.com/portscan/portscan/internal/ber"
)

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
			strs = append(strs, ber.String(ber.GeneralStr, n))
		}
		return ber.TLV(ber.Sequence, // PrincipalName, §5.2.2
			ber.TLV(ber.Context(0), ber.Int(ber.Integer, nameType)),
			ber.TLV(ber.Context(1), ber.TLV(ber.Sequence, strs...)),
		)
	}
	var opts [4]byte
	binary.BigEndian.PutUint32(opts[:], 0x40000010) // forwardable, renewable-ok (§5.4.1)
	body := ber.TLV(ber.Sequence,                   // KDC-REQ-BODY
		ber.TLV(ber.Context(0), ber.TLV(ber.BitString, []byte{0}, opts[:])),
		ber.TLV(ber.Context(1), principal(1, "portscan")), // NT-PRINCIPAL
		ber.TLV(ber.Context(2), ber.String(ber.GeneralStr, kerberosRealm)),
		ber.TLV(ber.Context(3), principal(2, "krbtgt", kerberosRealm)), // NT-SRV-INST
		ber.TLV(ber.Context(5), ber.String(ber.GeneralTime, "20370913024805Z")),
		ber.TLV(ber.Context(7), ber.Int(ber.Integer, nonce)),
		ber.TLV(ber.Context(8), ber.TLV(ber.Sequence, // etype: RFC 3962 AES, RFC 8009 AES-SHA2, RFC 4757 RC4
			ber.Int(ber.Integer, 18),
			ber.Int(ber.Integer, 17),
			ber.Int(ber.Integer, 20),
			ber.Int(ber.Integer, 19),
			ber.Int(ber.Integer, 23),
		)),
	)
	b := ber.TLV(ber.App(10), ber.TLV(ber.Sequence, // AS-REQ ::= [APPLICATION 10] KDC-REQ
		ber.TLV(ber.Context(1), ber.Int(ber.Integer, 5)),  // pvno
		ber.TLV(ber.Context(2), ber.Int(ber.Integer, 10)), // msg-type KRB_AS_REQ
		ber.TLV(ber.Context(4), body),
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
	top := ber.Reader{B: reply}
	tag, outer, ok := top.Next()
	if !ok || (tag != ber.App(11) && tag != ber.App(30)) {
		return false, "not a kerberos reply"
	}
	want := int64(11)
	if tag == ber.App(30) {
		want = 30
	}
	rd := ber.Reader{B: outer}
	seq, ok := rd.Expect(ber.Sequence)
	if !ok {
		return false, "not a kerberos reply"
	}
	fr := ber.Reader{B: seq}
	pvno, ok := fr.Expect(ber.Context(0))
	if !ok {
		return false, "kerberos reply without pvno"
	}
	if v, ok := (&ber.Reader{B: pvno}).Integer(); !ok || v != 5 {
		return false, "kerberos reply with another protocol version"
	}
	mt, ok := fr.Expect(ber.Context(1))
	if !ok {
		return false, "kerberos reply without msg-type"
	}
	if v, ok := (&ber.Reader{B: mt}).Integer(); !ok || v != want {
		return false, "kerberos reply with a msg-type that contradicts its tag"
	}
	if want == 30 {
		return true, "kerberos-error"
	}
	return true, "kerberos-as-rep"
}
