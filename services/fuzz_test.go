package services

import (
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
)

func FuzzParse(f *testing.F) {
	f.Add("22\tssh\t-\tC-1\t-\t安全\tSecure Shell\n")
	f.Add("@note\ta\ttext\n1236\tbvcontrol\trmtcfg\tC-3\ta\tx\ty\n")
	f.Add("# comment\n512/udp\tbiff\tcomsat\tC-2\t-\t\t\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for e := range c.All() {
			if e.Port.Number == 0 || e.Name == "" {
				t.Fatalf("accepted a bad entry %+v", e)
			}
			if c.Lookup(e.Port) == nil {
				t.Fatalf("entry %v not found by Lookup", e.Port)
			}
		}
	})
}

func FuzzParseEtcServices(f *testing.F) {
	f.Add("http 80/tcp www # web\n")
	f.Add("# only a comment\n\n")
	f.Add("a 1/udp\nb 65535/tcp c d e\n")
	f.Add("amqp 5672/sctp\nrtmp 1/ddp # AppleTalk\ndiscard 9/dccp\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Read(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for proto, n := range c.Skipped() {
			if !isProtocolName(proto) || n <= 0 {
				t.Fatalf("Skipped() has %q: %d", proto, n)
			}
			if _, err := ports.ParseProtocol(proto); err == nil {
				t.Fatalf("skipped lines of %q, a protocol the catalog holds", proto)
			}
		}
		for e := range c.All() {
			if e.Port.Number == 0 || len(c.ByName(e.Name)) == 0 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
