package probes

import (
	"testing"

	"github.com/portscan/portscan/ports"
)

// BenchmarkMatchInstalled matches replies written for these tests
// against the installed file: a greeting that the NULL probe's lines
// name, an HTTP answer, and a reply that no line names, which runs every
// pattern of the probe and of the NULL probe (the worst case).
func BenchmarkMatchInstalled(b *testing.B) {
	f := loadInstalled(b)
	cases := []struct{ name, probe, reply string }{
		{"ssh", "NULL", installedReplies[0].reply},
		{"http", "GetRequest", installedReplies[1].reply},
		{"none", "GetRequest", "\x17\x2a no protocol at all \x00\x01\x02\r\n"},
	}
	for _, tc := range cases {
		p := f.Lookup(ports.TCP, tc.probe)
		if p == nil {
			b.Skipf("no TCP probe %s", tc.probe)
		}
		lines := 0
		for _, q := range f.chain(p) {
			lines += len(q.Matches)
		}
		b.Run(tc.name, func(b *testing.B) {
			reply := []byte(tc.reply)
			for b.Loop() {
				f.Match(p, reply)
			}
			b.ReportMetric(float64(lines), "lines")
		})
	}
}

// BenchmarkLoadInstalled parses the installed file and compiles all its
// patterns.
func BenchmarkLoadInstalled(b *testing.B) {
	loadInstalled(b)
	for b.Loop() {
		if _, err := Load(installedPath, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
