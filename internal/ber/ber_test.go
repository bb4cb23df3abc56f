package ber

import (
	"bytes"
	"testing"
)

func TestHead(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		hdr  int
		n    int
		st   Status
	}{
		{"empty", nil, 0, 0, Short},
		{"tag only", []byte{0x30}, 0, 0, Short},
		{"short form", []byte{0x30, 0x03}, 2, 3, OK},
		{"long form", []byte{0x04, 0x82, 0x01, 0x00}, 4, 256, OK},
		{"long form cut", []byte{0x04, 0x82, 0x01}, 0, 0, Short},
		{"indefinite", []byte{0x30, 0x80}, 0, 0, Bad},
		{"multi-byte tag", []byte{0x1f, 0x01}, 0, 0, Bad},
		{"too long", []byte{0x04, 0x84, 0x7f, 0xff, 0xff, 0xff}, 0, 0, Bad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, hdr, n, st := Head(tc.in)
			if hdr != tc.hdr || n != tc.n || st != tc.st {
				t.Errorf("Head(% x) = %d, %d, %v; want %d, %d, %v", tc.in, hdr, n, st, tc.hdr, tc.n, tc.st)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	msg := TLV(Sequence, Int(Integer, -129), String(OctetString, string(bytes.Repeat([]byte{'x'}, 300))), ObjectID(1, 3, 6, 1, 2, 1, 1, 1, 0))
	r := Reader{B: msg}
	seq, ok := r.Expect(Sequence)
	if !ok || len(r.B) != 0 {
		t.Fatalf("sequence: %v, %d bytes left", ok, len(r.B))
	}
	in := Reader{B: seq}
	if v, ok := in.Integer(); !ok || v != -129 {
		t.Errorf("integer = %d, %v", v, ok)
	}
	if s, ok := in.Expect(OctetString); !ok || len(s) != 300 {
		t.Errorf("string of %d bytes, %v", len(s), ok)
	}
	if oid, ok := in.Expect(OID); !ok || !bytes.Equal(oid, []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}) {
		t.Errorf("oid = % x, %v", oid, ok)
	}
	if _, _, ok := in.Next(); ok {
		t.Error("an element after the last")
	}
}
