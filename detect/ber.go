package detect

// A small part of ASN.1 BER (ITU-T X.690) for the probes and matchers of
// LDAP and of SNMP replies: one-byte tags, definite lengths of up to four
// bytes. Reading tells a header cut short from one that is impossible.

// berStatus says what berHead made of the bytes.
type berStatus int

const (
	berBad   berStatus = iota // not a BER element of ours
	berShort                  // a prefix of a header: more bytes could make one
	berOK
)

// berHead reads the tag and length of the element at the start of b:
// its content is b[hdr:hdr+n] (which may run past b when b is cut short).
func berHead(b []byte) (tag byte, hdr, n int, st berStatus) {
	if len(b) == 0 {
		return 0, 0, 0, berShort
	}
	if b[0]&0x1f == 0x1f {
		return 0, 0, 0, berBad // multi-byte tags: none in our protocols
	}
	if len(b) < 2 {
		return b[0], 0, 0, berShort
	}
	l := int(b[1])
	if l < 0x80 {
		return b[0], 2, l, berOK
	}
	k := l & 0x7f
	if k == 0 || k > 4 {
		return 0, 0, 0, berBad // indefinite, or longer than any answer
	}
	if len(b) < 2+k {
		return b[0], 0, 0, berShort
	}
	n = 0
	for _, c := range b[2 : 2+k] {
		n = n<<8 | int(c)
	}
	if n < 0 || n > 1<<24 {
		return 0, 0, 0, berBad
	}
	return b[0], 2 + k, n, berOK
}

// berWalk reads the elements of a constructed element's content in turn.
type berWalk struct{ b []byte }

// next returns the next whole element; ok is false at the end or when
// the element runs past the bytes.
func (w *berWalk) next() (tag byte, content []byte, ok bool) {
	tag, hdr, n, st := berHead(w.b)
	if st != berOK || n > len(w.b)-hdr {
		return 0, nil, false
	}
	content = w.b[hdr : hdr+n]
	w.b = w.b[hdr+n:]
	return tag, content, true
}

// berInt decodes INTEGER or ENUMERATED content of 1 to 8 bytes.
func berIntValue(c []byte) (int64, bool) {
	if len(c) == 0 || len(c) > 8 {
		return 0, false
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, true
}

// berTLV encodes one element with a definite length.
func berTLV(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xff:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// berString encodes an OCTET STRING (or another string tag).
func berString(tag byte, s string) []byte { return berTLV(tag, []byte(s)) }
