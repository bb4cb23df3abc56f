package payload

import (
	"crypto/ecdh"
	"encoding/binary"
)

// ISAKMP payload types and exchange types used below.
const (
	ikeV1PayloadSA        = 1  // RFC 2408 §3.1
	ikeV1PayloadProposal  = 2  // RFC 2408 §3.5
	ikeV1PayloadTransform = 3  // RFC 2408 §3.6
	ikeV1IdentityProt     = 2  // main mode, RFC 2408 §4.5
	ikeV2PayloadSA        = 33 // RFC 7296 §3.2
	ikeV2PayloadKE        = 34
	ikeV2PayloadNonce     = 40
	ikeV2SAInit           = 34 // RFC 7296 §3.1
)

// ikev2Probe is the first message of an IKEv2 IKE_SA_INIT exchange (RFC
// 7296 §1.2, formats in §3): an SA payload offering AES-CBC, HMAC-SHA2-256
// or HMAC-SHA1, and Diffie-Hellman group 19 (256-bit ECP, RFC 5903) or 14
// (2048-bit MODP, RFC 3526) - the groups RFC 8247 §2.4 makes mandatory -,
// a KE payload with a real group-19 public value, and a nonce. A responder
// answers with its own IKE_SA_INIT, a notification (NO_PROPOSAL_CHOSEN,
// INVALID_KE_PAYLOAD, COOKIE) or, if it only speaks IKEv1, an IKEv1
// notification; all of them start with our initiator SPI. strongSwan
// answers only requests from port 500 (seen with charon 5.9), hence
// SourcePort.
func ikev2Probe(r *stream) Probe {
	var spi [8]byte
	for spi == [8]byte{} {
		r.fill(spi[:])
	}
	// Transform substructure (RFC 7296 §3.3.2): last-or-more (0 or 3),
	// reserved, length, type, reserved, id, attributes.
	var transforms [][]byte
	transform := func(typ byte, id uint16, keyLen uint16) {
		t := []byte{3, 0, 0, 8, typ, 0, byte(id >> 8), byte(id)}
		if keyLen != 0 { // Key Length attribute, TV format (§3.3.5)
			t = append(t, 0x80, 14, byte(keyLen>>8), byte(keyLen))
			t[3] = byte(len(t))
		}
		transforms = append(transforms, t)
	}
	transform(1, 12, 256) // ENCR_AES_CBC, 256-bit key
	transform(1, 12, 128) // ENCR_AES_CBC, 128-bit key
	transform(2, 5, 0)    // PRF_HMAC_SHA2_256
	transform(2, 2, 0)    // PRF_HMAC_SHA1
	transform(3, 12, 0)   // AUTH_HMAC_SHA2_256_128
	transform(3, 2, 0)    // AUTH_HMAC_SHA1_96
	transform(4, 19, 0)   // DH group 19, 256-bit random ECP
	transform(4, 14, 0)   // DH group 14, 2048-bit MODP
	transforms[len(transforms)-1][0] = 0
	// Proposal substructure (§3.3.1): last, reserved, length, number 1,
	// protocol IKE (1), SPI size 0, transform count.
	prop := []byte{0, 0, 0, 0, 1, 1, 0, byte(len(transforms))}
	for _, t := range transforms {
		prop = append(prop, t...)
	}
	binary.BigEndian.PutUint16(prop[2:], uint16(len(prop)))

	// KE payload (§3.4) for group 19: x and y of the public point, 32 bytes
	// each (RFC 5903 §7), from a private key drawn from the seed.
	var pub []byte
	for pub == nil {
		var k [32]byte
		r.fill(k[:])
		if priv, err := ecdh.P256().NewPrivateKey(k[:]); err == nil {
			pub = priv.PublicKey().Bytes()[1:] // drop the 0x04 prefix
		}
	}
	var nonce [32]byte // §3.9: at least 16 bytes, half the PRF key
	r.fill(nonce[:])

	payload := func(b []byte, next byte, body []byte) []byte {
		b = append(b, next, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
		return append(b, body...)
	}
	b := make([]byte, 28, 400)
	copy(b, spi[:])
	b[16] = ikeV2PayloadSA
	b[17] = 0x20 // version 2.0
	b[18] = ikeV2SAInit
	b[19] = 0x08 // Initiator
	b = payload(b, ikeV2PayloadKE, prop)
	b = payload(b, ikeV2PayloadNonce, append([]byte{0, 19, 0, 0}, pub...))
	b = payload(b, 0, nonce[:])
	binary.BigEndian.PutUint32(b[24:], uint32(len(b)))
	return Probe{
		Name:       "ikev2-sa-init",
		RFC:        "RFC 7296 §1.2",
		Payload:    b,
		SourcePort: 500,
		Match: func(reply []byte) (bool, string) {
			return matchISAKMP(reply, spi)
		},
	}
}

// ikev1Probe is the first message of IKEv1 main mode (RFC 2409 §5, formats
// of RFC 2408 §3): one ISAKMP proposal with four transforms offering
// AES-128 or 3DES, SHA-1, pre-shared keys and MODP groups 14 or 2
// (attribute values from RFC 2409 Appendix A, RFC 3602 §5 for AES and
// RFC 3526 for group 14), in the IPsec DOI (RFC 2407 §4.2). The answer
// starts with our initiator cookie.
func ikev1Probe(r *stream) Probe {
	var cookie [8]byte
	for cookie == [8]byte{} {
		r.fill(cookie[:])
	}
	type attrs struct{ enc, keyLen, hash, group uint16 }
	sets := []attrs{
		{7, 128, 2, 14}, // AES-CBC 128, SHA, group 14
		{7, 128, 2, 2},  // AES-CBC 128, SHA, group 2
		{5, 0, 2, 14},   // 3DES-CBC, SHA, group 14
		{5, 0, 2, 2},    // 3DES-CBC, SHA, group 2
	}
	tv := func(b []byte, typ, val uint16) []byte { // attribute, TV format (RFC 2408 §3.3)
		b = binary.BigEndian.AppendUint16(b, 0x8000|typ)
		return binary.BigEndian.AppendUint16(b, val)
	}
	var prop []byte
	for i, s := range sets {
		next := byte(ikeV1PayloadTransform)
		if i == len(sets)-1 {
			next = 0
		}
		// Transform payload (RFC 2408 §3.6): generic header, transform
		// number, transform id KEY_IKE (1), reserved.
		t := []byte{next, 0, 0, 0, byte(i + 1), 1, 0, 0}
		t = tv(t, 1, s.enc) // Encryption Algorithm
		if s.keyLen != 0 {
			t = tv(t, 14, s.keyLen) // Key Length
		}
		t = tv(t, 2, s.hash)  // Hash Algorithm
		t = tv(t, 3, 1)       // Authentication Method: pre-shared key
		t = tv(t, 4, s.group) // Group Description
		t = tv(t, 11, 1)      // Life Type: seconds
		t = tv(t, 12, 28800)  // Life Duration
		binary.BigEndian.PutUint16(t[2:], uint16(len(t)))
		prop = append(prop, t...)
	}
	// Proposal payload (RFC 2408 §3.5): generic header, proposal 1,
	// protocol PROTO_ISAKMP (1), SPI size 0, transform count.
	prop = append([]byte{0, 0, 0, 0, 1, 1, 0, byte(len(sets))}, prop...)
	binary.BigEndian.PutUint16(prop[2:], uint16(len(prop)))
	// SA payload (RFC 2408 §3.4): generic header, DOI IPsec (1), situation
	// SIT_IDENTITY_ONLY (1), then the proposal.
	sa := []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}
	sa = append(sa, prop...)
	binary.BigEndian.PutUint16(sa[2:], uint16(len(sa)))

	// ISAKMP header (RFC 2408 §3.1).
	b := make([]byte, 28, 28+len(sa))
	copy(b, cookie[:])
	b[16] = ikeV1PayloadSA
	b[17] = 0x10 // version 1.0
	b[18] = ikeV1IdentityProt
	b = append(b, sa...)
	binary.BigEndian.PutUint32(b[24:], uint32(len(b)))
	return Probe{
		Name:       "ikev1-main-mode",
		RFC:        "RFC 2409 §5, RFC 2408 §3",
		Payload:    b,
		SourcePort: 500,
		Match: func(reply []byte) (bool, string) {
			return matchISAKMP(reply, cookie)
		},
	}
}

// matchISAKMP checks the ISAKMP header that IKEv1 (RFC 2408 §3.1) and IKEv2
// (RFC 7296 §3.1) share: the initiator SPI (cookie) must be ours and the
// major version 1 or 2, whatever version we sent, since a responder may
// answer in the version it speaks. The reply must also look like one: an
// IKEv2 message has the Response flag; an IKEv1 answer carries the
// responder's cookie or is an Informational exchange.
func matchISAKMP(reply []byte, spi [8]byte) (bool, string) {
	if len(reply) < 28 {
		return false, "isakmp reply too short"
	}
	switch reply[17] >> 4 {
	case 2:
		if reply[19]&0x20 == 0 {
			return false, "ikev2 request, not a response"
		}
	case 1:
		if [8]byte(reply[8:16]) == [8]byte{} && reply[18] != 5 {
			return false, "ikev1 message without a responder cookie"
		}
	default:
		return false, "isakmp reply with an unknown major version"
	}
	if [8]byte(reply[:8]) != spi {
		return false, "isakmp initiator spi mismatch"
	}
	return true, "isakmp-response spi match"
}
