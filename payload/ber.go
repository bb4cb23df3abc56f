package payload

// A tiny subset of ASN.1 BER/DER (ITU-T X.690): definite lengths, one-byte
// tags. It writes what SNMP, LDAP and Kerberos requests need and reads just
// enough of their replies to find an id, without allocating.

// ASN.1 tags used by the probes (X.690 §8; class and constructed bits
// included).
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagEnumerated  = 0x0a
	tagGeneralTime = 0x18
	tagGeneralStr  = 0x1b
	tagSequence    = 0x30
)

// ctx returns the tag of a constructed context-specific [n] element.
func ctx(n byte) byte { return 0xa0 | n }

// app returns the tag of a constructed application [n] element (n < 31).
func app(n byte) byte { return 0x60 | n }

// tlv encodes one element with a definite length (X.690 §8.1.3): short
// form below 128 bytes, long form above.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
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

// berInt encodes an INTEGER in the fewest two's-complement bytes (X.690
// §8.3).
func berInt(tag byte, v int64) []byte {
	var b [8]byte
	for i := range b {
		b[7-i] = byte(v >> (8 * i))
	}
	i := 0
	for i < 7 && ((b[i] == 0 && b[i+1]&0x80 == 0) || (b[i] == 0xff && b[i+1]&0x80 != 0)) {
		i++
	}
	return tlv(tag, b[i:])
}

// berStr encodes a string type (OCTET STRING, GeneralString...).
func berStr(tag byte, s string) []byte { return tlv(tag, []byte(s)) }

// berOID encodes an OBJECT IDENTIFIER (X.690 §8.19).
func berOID(arcs ...uint32) []byte {
	body := []byte{byte(arcs[0]*40 + arcs[1])}
	for _, a := range arcs[2:] {
		var tmp [5]byte
		i := len(tmp) - 1
		tmp[i] = byte(a & 0x7f)
		for a >>= 7; a > 0; a >>= 7 {
			i--
			tmp[i] = byte(a&0x7f) | 0x80
		}
		body = append(body, tmp[i:]...)
	}
	return tlv(tagOID, body)
}

// berReader walks BER elements in a reply without copying.
type berReader struct{ b []byte }

// next returns the tag and content of the next element, or ok=false when
// the input is truncated, uses a multi-byte tag, an indefinite length, or
// a length wider than 3 bytes (no reply of ours is that large).
func (r *berReader) next() (tag byte, content []byte, ok bool) {
	b := r.b
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, false
	}
	tag = b[0]
	n := int(b[1])
	off := 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		off += k
	}
	if n > len(b)-off {
		return 0, nil, false
	}
	r.b = b[off+n:]
	return tag, b[off : off+n], true
}

// expect returns the content of the next element if it has the given tag.
func (r *berReader) expect(tag byte) ([]byte, bool) {
	t, c, ok := r.next()
	if !ok || t != tag {
		return nil, false
	}
	return c, true
}

// integer reads the next element as an INTEGER of at most 8 bytes.
func (r *berReader) integer() (int64, bool) {
	c, ok := r.expect(tagInteger)
	if !ok {
		return 0, false
	}
	return berIntValue(c)
}

// berIntValue decodes INTEGER content of 1 to 8 bytes.
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
