package output

import (
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/result"
)

// discovery is a run that only discovered hosts (portscan -sn): no
// port, one host up with its round trip time, one down.
func discovery() scenario {
	return scenario{
		name: "discovery",
		opt:  Options{Reason: true, ShowDown: true},
		info: result.Info{Args: []string{"portscan", "-sn", "127.0.0.1", "127.0.0.2"}, Start: t0, ScanType: result.ScanDiscovery, Version: "0.1.0", Lang: "en"},
		events: []event{
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonConnRefused, Probes: 2,
				RTT: 110 * time.Microsecond, RTTVar: 55 * time.Microsecond, Timeout: 100 * time.Millisecond, Start: at(0), End: at(1)}),
			hostEv(result.Host{Addr: local2, Up: false, Reason: result.ReasonNoResponse, Probes: 4, Silent: 4,
				Timeout: time.Second, Start: at(0), End: at(2000)}),
		},
		stats: result.Summary{Start: t0, End: at(2000), HostsUp: 1, HostsDown: 1, Probes: 6},
	}
}

func TestDiscoveryOutput(t *testing.T) {
	sc := discovery()
	want := map[string][]string{
		"text": {"portscan report for 127.0.0.1\nHost is up, received conn-refused (0.00011s latency).\n",
			"portscan report for 127.0.0.2\nHost seems down: no answer to 4 probes (no-response).\n", "2 hosts (1 host up)", ": host discovery"},
		"jsonl":    {`"type":"host","host":"127.0.0.1","up":true,"status":"up","reason":"conn-refused","latency_ms":0.11`, `"host":"127.0.0.2","up":false`},
		"json":     {`"latency_ms": 0.11`},
		"grepable": {"Host: 127.0.0.1 ()\tStatus: Up\n", "Host: 127.0.0.2 ()\tStatus: Down\n", "(1 host up)"},
		"html":     {`<span class="h">127.0.0.1</span> <span class="st-up">up</span> <span class="muted">received conn-refused · 0.00011 s latency</span>`, `<span class="h">127.0.0.2</span> <span class="st-down">down</span> <span class="muted">no answer to 4 probes (no-response)</span>`},
		"xml":      {`<status state="up" reason="conn-refused"`, `<times srtt="110" rttvar="55" to="100000"></times>`, `<status state="down" reason="no-response"`},
	}
	for format, wants := range want {
		t.Run(format, func(t *testing.T) {
			out := string(render(t, format, sc))
			for _, w := range wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, bad := range []string{"open port", "<ports", "<scaninfo", "Not shown", "PORT", "Ports:"} {
				if strings.Contains(out, bad) {
					t.Errorf("a discovery run's output has %q:\n%s", bad, out)
				}
			}
			checkWellFormed(t, format, []byte(out))
			golden.Check(t, goldenPath(sc, format), []byte(out))
		})
	}
}
