package output

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// TestTextHeaderShard checks that the text header names the shard of a
// sharded scan, and says nothing of a whole one.
func TestTextHeaderShard(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		info result.Info
		want string
	}{
		{"second of four", result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 1000, Shard: result.Shard{Index: 1, Count: 4}},
			"Starting portscan 0.1.0 at 2026-01-02 03:04 UTC: connect scan of 1000 tcp ports, shard 2/4\n"},
		{"one of one", result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 1000, Shard: result.Shard{Index: 0, Count: 1}},
			"Starting portscan 0.1.0 at 2026-01-02 03:04 UTC: connect scan of 1000 tcp ports\n"},
		{"whole", result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 1000},
			"Starting portscan 0.1.0 at 2026-01-02 03:04 UTC: connect scan of 1000 tcp ports\n"},
		{"discovery", result.Info{ScanType: result.ScanDiscovery, Shard: result.Shard{Index: 2, Count: 3}},
			"Starting portscan 0.1.0 at 2026-01-02 03:04 UTC: host discovery, shard 3/3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := New("text", &b, Options{Lang: "en"})
			if err != nil {
				t.Fatal(err)
			}
			tc.info.Start, tc.info.Version = start, "0.1.0"
			if err := w.Begin(tc.info); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := strings.Cut(b.String(), "\n"); got+"\n" != tc.want {
				t.Errorf("header %q, want %q", got+"\n", tc.want)
			}
		})
	}
}
