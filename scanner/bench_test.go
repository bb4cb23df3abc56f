package scanner

import (
	"context"
	"testing"

	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

// scanLoopback scans 127.0.0.1 with cfg once, and fails unless the
// listener on open is found open, once.
func scanLoopback(b *testing.B, cfg Config, open uint16) result.Summary {
	b.Helper()
	found := 0
	st, err := Run(context.Background(), cfg, addrs("127.0.0.1"), result.Funcs{OnPort: func(r result.Port) {
		if r.State == result.Open && r.Port.Number == open {
			found++
		}
	}})
	if err != nil || found != 1 {
		b.Fatalf("err %v, found the listener %d times", err, found)
	}
	return st
}

// BenchmarkLoopbackAllPorts scans all 65535 TCP ports of 127.0.0.1 once per
// iteration; bench/scan.sh runs the same scan in a lab namespace beside nmap.
func BenchmarkLoopbackAllPorts(b *testing.B) {
	open := listen(b, "127.0.0.1:0")
	cfg := Config{Ports: portSet(b, "1-65535")}
	for b.Loop() {
		st := scanLoopback(b, cfg, open)
		b.ReportMetric(st.ProbesPerSecond(), "probes/s")
	}
}

// BenchmarkSynLoopbackAllPorts is the same scan with SYNs. It needs
// CAP_NET_RAW; run it in a namespace of its own (bench/syn.sh does, as
// does: ip netns exec NS go test -bench SynLoopback ./scanner).
func BenchmarkSynLoopbackAllPorts(b *testing.B) {
	if err := raw.Check(); err != nil {
		b.Skip(err)
	}
	open := listen(b, "127.0.0.1:0")
	cfg := Config{Ports: portSet(b, "1-65535"), Syn: true, SkipDiscovery: true}
	for b.Loop() {
		st := scanLoopback(b, cfg, open)
		b.ReportMetric(st.ProbesPerSecond(), "probes/s")
		b.ReportMetric(float64(st.Probes), "probes")
	}
}
