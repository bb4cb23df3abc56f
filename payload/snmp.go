package payload

import "github.com/portscan/portscan/internal/ber"

// The OID of sysDescr.0 (RFC 1213 §6.2 / RFC 3418 §2), which every agent
// serves and every MIB view includes.
var sysDescr0 = []uint32{1, 3, 6, 1, 2, 1, 1, 1, 0}

// PDU tags (RFC 1157 §4.1, RFC 3416 §3): context-specific, constructed.
const (
	pduGetRequest  = 0xa0
	pduGetResponse = 0xa2
	pduReport      = 0xa8
)

// snmpV1Probe is an SNMPv1 GetRequest for sysDescr.0 with community
// "public" (RFC 1157 §4.1.2).
func snmpV1Probe(r *stream) Probe {
	return snmpCommunityProbe(r, 0, "snmp-v1-get", "RFC 1157 §4.1.2")
}

// snmpV2cProbe is the same request in the community-based SNMPv2 message
// (RFC 1901 §3, PDU of RFC 3416 §4.2.1).
func snmpV2cProbe(r *stream) Probe {
	return snmpCommunityProbe(r, 1, "snmp-v2c-get", "RFC 1901 §3, RFC 3416 §4.2.1")
}

// snmpCommunityProbe builds Message ::= SEQUENCE { version, community,
// GetRequest-PDU { request-id, error-status 0, error-index 0,
// variable-bindings { { sysDescr.0, NULL } } } }.
func snmpCommunityProbe(r *stream, version int64, name, rfc string) Probe {
	reqID := r.pos31()
	b := ber.TLV(ber.Sequence,
		ber.Int(ber.Integer, version),
		ber.String(ber.OctetString, "public"),
		ber.TLV(pduGetRequest,
			ber.Int(ber.Integer, reqID),
			ber.Int(ber.Integer, 0),
			ber.Int(ber.Integer, 0),
			ber.TLV(ber.Sequence, ber.TLV(ber.Sequence, ber.ObjectID(sysDescr0...), ber.TLV(ber.Null))),
		),
	)
	return Probe{
		Name:    name,
		RFC:     rfc,
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			return matchSNMPCommunity(reply, version, reqID)
		},
	}
}

// snmpMessage opens an SNMP message (RFC 3416 §3, RFC 3412 §6) and checks
// its version, returning a reader at the field after the version, or why
// the reply is not such a message.
func snmpMessage(reply []byte, version int64) (ber.Reader, string) {
	top := ber.Reader{B: reply}
	msg, ok := top.Expect(ber.Sequence)
	if !ok {
		return ber.Reader{}, "not an snmp message"
	}
	rd := ber.Reader{B: msg}
	v, ok := rd.Integer()
	if !ok {
		return ber.Reader{}, "not an snmp message"
	}
	if v != version {
		return ber.Reader{}, "snmp reply with another version"
	}
	return rd, ""
}

// matchSNMPCommunity checks a v1 or v2c GetResponse: same version, same
// request-id. The community is not checked; agents echo it, but it carries
// no information.
func matchSNMPCommunity(reply []byte, version, reqID int64) (bool, string) {
	rd, why := snmpMessage(reply, version)
	if why != "" {
		return false, why
	}
	if _, ok := rd.Expect(ber.OctetString); !ok {
		return false, "snmp reply without a community"
	}
	pdu, ok := rd.Expect(pduGetResponse)
	if !ok {
		return false, "snmp message is not a GetResponse"
	}
	pr := ber.Reader{B: pdu}
	id, ok := pr.Integer()
	if !ok {
		return false, "snmp GetResponse without a request-id"
	}
	if id != reqID {
		return false, "snmp request-id mismatch"
	}
	return true, "snmp-response request-id match"
}

// snmpV3Probe is the SNMPv3 engine discovery request of RFC 3414 §4: a
// GetRequest with an empty variable list, user-based security with empty
// engine id and user name, no authentication, reportable flag set. Agents
// that refuse v1 and v2c still answer it with a Report (unknown engine
// id) that carries the request's msgID (RFC 3412 §7.1).
func snmpV3Probe(r *stream) Probe {
	msgID := r.pos31()
	reqID := r.pos31()
	usm := ber.TLV(ber.Sequence, // UsmSecurityParameters, RFC 3414 §2.4
		ber.String(ber.OctetString, ""), // msgAuthoritativeEngineID
		ber.Int(ber.Integer, 0),         // msgAuthoritativeEngineBoots
		ber.Int(ber.Integer, 0),         // msgAuthoritativeEngineTime
		ber.String(ber.OctetString, ""), // msgUserName
		ber.String(ber.OctetString, ""), // msgAuthenticationParameters
		ber.String(ber.OctetString, ""), // msgPrivacyParameters
	)
	b := ber.TLV(ber.Sequence, // SNMPv3Message, RFC 3412 §6
		ber.Int(ber.Integer, 3),
		ber.TLV(ber.Sequence, // HeaderData
			ber.Int(ber.Integer, msgID),
			ber.Int(ber.Integer, 65507),            // msgMaxSize
			ber.TLV(ber.OctetString, []byte{0x04}), // msgFlags: reportable
			ber.Int(ber.Integer, 3),                // msgSecurityModel: USM
		),
		ber.TLV(ber.OctetString, usm),
		ber.TLV(ber.Sequence, // ScopedPDU
			ber.String(ber.OctetString, ""), // contextEngineID
			ber.String(ber.OctetString, ""), // contextName
			ber.TLV(pduGetRequest,
				ber.Int(ber.Integer, reqID),
				ber.Int(ber.Integer, 0),
				ber.Int(ber.Integer, 0),
				ber.TLV(ber.Sequence),
			),
		),
	)
	return Probe{
		Name:    "snmp-v3-discovery",
		RFC:     "RFC 3412 §6, RFC 3414 §4",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			rd, why := snmpMessage(reply, 3)
			if why != "" {
				return false, why
			}
			hdr, ok := rd.Expect(ber.Sequence)
			if !ok {
				return false, "snmpv3 reply without a header"
			}
			hr := ber.Reader{B: hdr}
			id, ok := hr.Integer()
			if !ok {
				return false, "snmpv3 reply without a msgID"
			}
			if id != msgID {
				return false, "snmp msgID mismatch"
			}
			if _, ok := rd.Expect(ber.OctetString); !ok {
				return false, "snmpv3 reply without security parameters"
			}
			// The ScopedPDU is plain, or encrypted (an OCTET STRING) when
			// the agent uses privacy; only a plain one can be checked.
			tag, scoped, ok := rd.Next()
			if ok && tag == ber.OctetString {
				return true, "snmp-response msgid match"
			}
			if !ok || tag != ber.Sequence {
				return false, "snmpv3 reply without a scoped pdu"
			}
			sr := ber.Reader{B: scoped}
			sr.Next() // contextEngineID
			sr.Next() // contextName
			if tag, _, ok := sr.Next(); !ok || (tag != pduReport && tag != pduGetResponse) {
				return false, "snmpv3 message is neither a Report nor a Response"
			}
			return true, "snmp-response msgid match"
		},
	}
}
