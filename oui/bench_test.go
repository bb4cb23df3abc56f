package oui

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkParse parses a registry already in memory: the system's, where
// it is installed, and a synthetic one of the same size and layout that
// runs everywhere.
func BenchmarkParse(b *testing.B) {
	b.Run("system", func(b *testing.B) {
		data, err := os.ReadFile(SystemPath)
		if err != nil {
			b.Skipf("%v (apt-get install ieee-data)", err)
		}
		benchParse(b, data)
	})
	b.Run("synthetic", func(b *testing.B) {
		benchParse(b, synthetic(35000))
	})
}

func benchParse(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// synthetic is a registry in oui.txt's layout, CRLF and all, of n
// distinct prefixes in no order, a few of them claimed twice.
func synthetic(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("OUI/MA-L                                                    Organization                                 \r\n" +
		"company_id                                                  Organization                                 \r\n" +
		"                                                            Address                                      \r\n\r\n")
	seed := rng.Uint32()
	for i := range n {
		p := (uint32(i)*0x9e3779b1 + seed) & 0xffffff // distinct: an odd multiplier is a bijection
		if i%1000 == 999 {
			p = (uint32(i/2)*0x9e3779b1 + seed) & 0xffffff // a second claim, which does not stand
		}
		name := fmt.Sprintf("Example Organisation %d, Inc.", p)
		if i%7 == 0 {
			name = fmt.Sprintf("Exempel  Företag\t%d AB", p)
		}
		fmt.Fprintf(&buf, "%02X-%02X-%02X   (hex)\t\t%s\r\n", p>>16, p>>8&0xff, p&0xff, name)
		fmt.Fprintf(&buf, "%06X     (base 16)\t\t%s\r\n", p, name)
		fmt.Fprintf(&buf, "\t\t\t\t%d Example Road\r\n\t\t\t\tSpringfield  XX  %05d\r\n\t\t\t\tUS\r\n\r\n", i, i%100000)
	}
	return buf.Bytes()
}
