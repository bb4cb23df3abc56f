// Package ber is the small part of ASN.1 BER (ITU-T X.690) that the UDP
// payloads (SNMP, LDAP, Kerberos) and the detection matchers (LDAP, SNMP
// replies) need: one-byte tags, definite lengths of up to four bytes. It
// writes requests, and reads replies without copying, telling a header
// cut short from one that is impossible.
package ber

// Tags (X.690 §8; class and constructed bits included).
const (
	Boolean     = 0x01
	Integer     = 0x02
	BitString   = 0x03
	OctetString = 0x04
	Null        = 0x05
	OID         = 0x06
	Enumerated  = 0x0a
	GeneralTime = 0x18
	GeneralStr  = 0x1b
	Sequence    = 0x30
)

// Context returns the tag of a constructed context-specific [n] element.
func Context(n byte) byte { return 0xa0 | n }

// App returns the tag of a constructed application [n] element (n < 31).
func App(n byte) byte { return 0x60 | n }

// TLV encodes one element with a definite length (X.690 §8.1.3): short
// form below 128 bytes, long form above.
func TLV(tag byte, parts ...[]byte) []byte {
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

// Int encodes an INTEGER (or ENUMERATED) in the fewest two's-complement
// bytes (X.690 §8.3).
func Int(tag byte, v int64) []byte {
	var b [8]byte
	for i := range b {
		b[7-i] = byte(v >> (8 * i))
	}
	i := 0
	for i < 7 && ((b[i] == 0 && b[i+1]&0x80 == 0) || (b[i] == 0xff && b[i+1]&0x80 != 0)) {
		i++
	}
	return TLV(tag, b[i:])
}

// String encodes a string type (OCTET STRING, GeneralString...).
func String(tag byte, s string) []byte { return TLV(tag, []byte(s)) }

// ObjectID encodes an OBJECT IDENTIFIER (X.690 §8.19).
func ObjectID(arcs ...uint32) []byte {
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
	return TLV(OID, body)
}

// Status says what Head made of the bytes.
type Status int

// The values of Status.
const (
	Bad   Status = iota // not a BER element of ours
	Short               // a prefix of a header: more bytes could make one
	OK
)

// Head reads the tag and length of the element at the start of b: its
// content is b[hdr:hdr+n] (which may run past b when b is cut short).
// Multi-byte tags, indefinite lengths and lengths over 16 MiB are Bad.
func Head(b []byte) (tag byte, hdr, n int, st Status) {
	if len(b) == 0 {
		return 0, 0, 0, Short
	}
	if b[0]&0x1f == 0x1f {
		return 0, 0, 0, Bad
	}
	if len(b) < 2 {
		return b[0], 0, 0, Short
	}
	l := int(b[1])
	if l < 0x80 {
		return b[0], 2, l, OK
	}
	k := l & 0x7f
	if k == 0 || k > 4 {
		return 0, 0, 0, Bad
	}
	if len(b) < 2+k {
		return b[0], 0, 0, Short
	}
	n = 0
	for _, c := range b[2 : 2+k] {
		n = n<<8 | int(c)
	}
	if n < 0 || n > 1<<24 {
		return 0, 0, 0, Bad
	}
	return b[0], 2 + k, n, OK
}

// Reader reads the elements of bytes in turn, without copying.
type Reader struct{ B []byte }

// Next returns the tag and content of the next whole element; ok is
// false at the end, or when the element is impossible or runs past the
// bytes.
func (r *Reader) Next() (tag byte, content []byte, ok bool) {
	tag, hdr, n, st := Head(r.B)
	if st != OK || n > len(r.B)-hdr {
		return 0, nil, false
	}
	content = r.B[hdr : hdr+n]
	r.B = r.B[hdr+n:]
	return tag, content, true
}

// Expect returns the content of the next element if it has the tag.
func (r *Reader) Expect(tag byte) ([]byte, bool) {
	t, c, ok := r.Next()
	if !ok || t != tag {
		return nil, false
	}
	return c, true
}

// Integer reads the next element as an INTEGER of at most 8 bytes.
func (r *Reader) Integer() (int64, bool) {
	c, ok := r.Expect(Integer)
	if !ok {
		return 0, false
	}
	return IntValue(c)
}

// IntValue decodes INTEGER or ENUMERATED content of 1 to 8 bytes.
func IntValue(c []byte) (int64, bool) {
	if len(c) == 0 || len(c) > 8 {
		return 0, false
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, true
}
