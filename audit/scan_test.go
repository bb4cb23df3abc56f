package audit

import (
	"reflect"
	"testing"
	"time"

	"github.com/portscan/portscan/scan"
)

// TestScanBlockDecodes checks that every key of the scan block decodes
// into its setting of scan.Options, typed, and counts as given; keys the
// block leaves out stay zero and not given.
func TestScanBlockDecodes(t *testing.T) {
	for _, c := range []struct {
		name, block string
		want        scan.Options
	}{
		{"every key", `scan:
  ports: [1-1024, ssh, 53/udp]
  exclude-ports: "25"
  udp: TRUE
  rate: 2.5
  retries: 007
  concurrency: 0
  host-group: 64
  initial-rtt-timeout: 1500ms
  min-rtt-timeout: 50ms
  max-rtt-timeout: 2s
  skip-discovery: false
`, scan.Options{Ports: "1-1024,ssh,53/udp", ExcludePorts: "25", UDP: true, Rate: 2.5, Retries: 7, HostGroup: 64,
			InitialRTTTimeout: 1500 * time.Millisecond, MinRTTTimeout: 50 * time.Millisecond, MaxRTTTimeout: 2 * time.Second,
			Given: scan.Ports | scan.ExcludePorts | scan.UDP | scan.Rate | scan.Retries | scan.Concurrency | scan.HostGroup |
				scan.InitialRTTTimeout | scan.MinRTTTimeout | scan.MaxRTTTimeout | scan.SkipDiscovery}},
		{"some keys", "scan:\n  retries: 0\n  skip-discovery: true\n", scan.Options{SkipDiscovery: true, Given: scan.Retries | scan.SkipDiscovery}},
		{"no block", "", scan.Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(c.block+"groups:\n  - name: g\n    targets: 10.0.0.1\n"), opts())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Scan, c.want) {
				t.Errorf("got  %+v\nwant %+v", p.Scan, c.want)
			}
		})
	}
}
