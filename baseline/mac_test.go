package baseline

import (
	"net/netip"
	"strings"
	"testing"
)

// TestReadMAC reads the MAC address and vendor of hosts back from each
// format that writes them, nmap's own XML included.
func TestReadMAC(t *testing.T) {
	tests := []struct {
		name, data string
	}{
		{"jsonl", `{"type":"scan","scanner":"portscan"}` + "\n" +
			`{"type":"host","host":"198.18.0.1","mac":"00:00:0C:12:34:56","vendor":"Cisco Systems, Inc","up":true,"status":"up","reason":"arp-response","counts":{}}` + "\n"},
		{"json", `{"scan":{"scanner":"portscan"},"hosts":[{"host":"198.18.0.1","mac":"00:00:0C:12:34:56","vendor":"Cisco Systems, Inc","up":true,"status":"up","reason":"arp-response","counts":{},"ports":[]}]}`},
		{"nmap xml", `<?xml version="1.0"?><nmaprun scanner="nmap"><host><status state="up" reason="arp-response" reason_ttl="0"/>` +
			`<address addr="198.18.0.1" addrtype="ipv4"/><address addr="00:00:0C:12:34:56" addrtype="mac" vendor="Cisco Systems, Inc"/></host></nmaprun>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := Read("f", strings.NewReader(tt.data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h := run.Host(netip.MustParseAddr("198.18.0.1"))
			if h == nil || h.MAC.String() != "00:00:0c:12:34:56" || h.Vendor != "Cisco Systems, Inc" || h.Reason != "arp-response" || !h.Up {
				t.Fatalf("host %+v", h)
			}
		})
	}
	for _, bad := range []string{
		`{"type":"host","host":"198.18.0.1","mac":"00:00:0C:12:34","up":true,"status":"up","counts":{}}` + "\n",
		`<nmaprun><host><address addr="198.18.0.1" addrtype="ipv4"/><address addr="00-00-0C-12-34-56-78-9a" addrtype="mac"/></host></nmaprun>`,
	} {
		_, err := Read("f", strings.NewReader(bad), ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), "invalid MAC address") || !strings.HasPrefix(err.Error(), "f:1") {
			t.Errorf("%s: error %v, want an invalid MAC address at f:1", bad, err)
		}
		if err != nil {
			checkShort(t, "f", err)
		}
	}
}
