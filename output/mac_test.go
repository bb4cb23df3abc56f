package output

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// The hosts of the MAC scenarios: on the scanner's link, found by ARP
// and NDP, one with a vendor the registry names, one without; and one
// beyond a router, which has no MAC of its own to show.
var (
	lanHost    = netip.MustParseAddr("198.18.0.1")
	lanHost2   = netip.MustParseAddr("198.18.0.7")
	lanHost6   = netip.MustParseAddr("fd00:18::1")
	farHost    = netip.MustParseAddr("198.18.65.10")
	ciscoMAC   = net.HardwareAddr{0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}
	localMAC   = net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}
	cisco      = "Cisco Systems, Inc"
	discoverMs = 1000
)

// macScenarios are runs whose hosts were found by raw discovery: their
// records carry the MAC address and vendor that the outputs write. The
// second, a port scan, is one of the golden scenarios; the first, a
// discovery run (no scaninfo), has goldens of its own, as discovery's.
func macScenarios() []scenario {
	sn := result.Info{Args: []string{"portscan", "-sn", "198.18.0.0/24", "fd00:18::1", "198.18.65.10"}, Start: t0,
		ScanType: result.ScanDiscovery, Version: "0.1.0", Lang: "en"}
	scan := result.Info{Args: []string{"portscan", "-p", "22,80", "198.18.0.1", "198.18.0.7"}, Start: t0,
		ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "22,80", NumPorts: 2, Version: "0.1.0", Lang: "en"}
	return []scenario{{
		name: "mac-discovery",
		opt:  Options{Reason: true},
		info: sn,
		events: []event{
			hostEv(result.Host{Addr: lanHost, Up: true, Reason: result.ReasonARPResponse, Probes: 1, MAC: ciscoMAC, Vendor: cisco,
				RTT: 45 * time.Microsecond, RTTVar: 22 * time.Microsecond, Timeout: 100 * time.Millisecond, Start: at(0), End: at(1), Seq: 1}),
			hostEv(result.Host{Addr: netip.MustParseAddr("198.18.0.2"), Reason: result.ReasonNoResponse, Probes: 2, Silent: 2,
				Timeout: 500 * time.Millisecond, Start: at(0), End: at(discoverMs), Seq: 2}),
			hostEv(result.Host{Addr: lanHost2, Up: true, Reason: result.ReasonARPResponse, Probes: 1, MAC: localMAC,
				RTT: 61 * time.Microsecond, RTTVar: 30 * time.Microsecond, Timeout: 100 * time.Millisecond, Start: at(0), End: at(1), Seq: 3}),
			hostEv(result.Host{Addr: lanHost6, Up: true, Reason: result.ReasonNDResponse, Probes: 1, MAC: ciscoMAC, Vendor: cisco,
				RTT: 80 * time.Microsecond, RTTVar: 40 * time.Microsecond, Timeout: 100 * time.Millisecond, Start: at(0), End: at(1), Seq: 4}),
			hostEv(result.Host{Addr: farHost, Up: true, Reason: result.ReasonEchoReply, Probes: 4,
				RTT: 120 * time.Microsecond, RTTVar: 60 * time.Microsecond, Timeout: 100 * time.Millisecond, Start: at(0), End: at(1), Seq: 5}),
		},
		stats: result.Summary{Start: t0, End: at(discoverMs), HostsUp: 4, HostsDown: 1, Probes: 9},
	}, {
		name: "mac-scan",
		opt:  Options{},
		info: scan,
		events: []event{
			res(lanHost, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 60, 10, ssh),
			res(lanHost, "", 80, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 11, http),
			hostEv(result.Host{Addr: lanHost, Up: true, Reason: result.ReasonARPResponse, Probes: 3, MAC: ciscoMAC, Vendor: cisco,
				Counts: map[result.State]int{result.Open: 1, result.Closed: 1}, Start: at(0), End: at(12), Seq: 1}),
			res(lanHost2, "", 22, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1000, ssh),
			res(lanHost2, "", 80, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1000, http),
			hostEv(result.Host{Addr: lanHost2, Up: true, Reason: result.ReasonARPResponse, Probes: 5, Silent: 4, MAC: localMAC,
				Counts: map[result.State]int{result.Filtered: 2}, Start: at(0), End: at(1000), Seq: 2}),
		},
		stats: result.Summary{Start: t0, End: at(1000), HostsUp: 2, Probes: 8, Open: 1},
	}}
}

func TestMACOutput(t *testing.T) {
	sc := macScenarios()
	tests := []struct {
		sc     scenario
		format string
		want   []string
		not    []string
	}{
		{sc[0], "text", []string{
			"portscan report for 198.18.0.1\nHost is up, received arp-response (0.000045s latency).\nMAC Address: 00:00:0C:12:34:56 (Cisco Systems, Inc)\n",
			"portscan report for 198.18.0.7\nHost is up, received arp-response (0.000061s latency).\nMAC Address: 02:42:AC:11:00:02 (Unknown)\n",
			"Host is up, received nd-response",
			"portscan report for 198.18.65.10\nHost is up, received echo-reply (0.00012s latency).\n\n",
		}, nil},
		{sc[1], "text", []string{
			"22/tcp open  ssh", "MAC Address: 00:00:0C:12:34:56 (Cisco Systems, Inc)\n\nportscan report for 198.18.0.7",
			"All 2 scanned ports on 198.18.0.7 are not shown.\nNot shown: 2 filtered ports (no-response)\nMAC Address: 02:42:AC:11:00:02 (Unknown)\n",
		}, nil},
		{sc[0], "jsonl", []string{`"host":"198.18.0.1","mac":"00:00:0C:12:34:56","vendor":"Cisco Systems, Inc","up":true,"status":"up","reason":"arp-response"`,
			`"host":"198.18.0.7","mac":"02:42:AC:11:00:02","up":true`, `"host":"198.18.65.10","up":true`}, []string{`"vendor":""`}},
		{sc[0], "json", []string{`"mac": "00:00:0C:12:34:56",` + "\n" + `      "vendor": "Cisco Systems, Inc",`}, nil},
		{sc[0], "xml", []string{
			`<status state="up" reason="arp-response" reason_ttl="0"></status>` + "\n" +
				`    <address addr="198.18.0.1" addrtype="ipv4"></address>` + "\n" +
				`    <address addr="00:00:0C:12:34:56" addrtype="mac" vendor="Cisco Systems, Inc"></address>`,
			`<address addr="02:42:AC:11:00:02" addrtype="mac"></address>`,
			`<address addr="fd00:18::1" addrtype="ipv6"></address>` + "\n" + `    <address addr="00:00:0C:12:34:56" addrtype="mac"`,
		}, []string{`198.18.65.10" addrtype="ipv4"></address>` + "\n" + `    <address addr="0`}},
		{sc[0], "grepable", []string{"Host: 198.18.0.1 ()\tStatus: Up\tMAC: 00:00:0C:12:34:56 (Cisco Systems, Inc)\n",
			"Host: 198.18.0.7 ()\tStatus: Up\tMAC: 02:42:AC:11:00:02 ()\n", "Host: 198.18.65.10 ()\tStatus: Up\n"}, nil},
		{sc[0], "html", []string{`<span class="h">198.18.0.1</span> <span class="st-up">up</span> <span class="muted">received arp-response · 0.000045 s latency · MAC Address: 00:00:0C:12:34:56 (Cisco Systems, Inc)</span>`,
			`MAC Address: 02:42:AC:11:00:02 (Unknown)`}, nil},
		{sc[1], "grepable", []string{"Host: 198.18.0.1 ()\tStatus: Up\tMAC: 00:00:0C:12:34:56 (Cisco Systems, Inc)\nHost: 198.18.0.1 ()\tPorts: 22/open/tcp//ssh///"}, nil},
	}
	for _, format := range Formats() {
		golden.Check(t, goldenPath(sc[0], format), render(t, format, sc[0]))
	}
	for _, tt := range tests {
		t.Run(tt.sc.name+"/"+tt.format, func(t *testing.T) {
			out := string(render(t, tt.format, tt.sc))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			checkWellFormed(t, tt.format, []byte(out))
		})
	}
}

// TestVendorEscaped writes a vendor name with the bytes a damaged or
// hostile registry file could hold: no format lets them through raw.
func TestVendorEscaped(t *testing.T) {
	sc := macScenarios()[0]
	sc.events = []event{hostEv(result.Host{Addr: lanHost, Up: true, Reason: result.ReasonARPResponse, MAC: ciscoMAC,
		Vendor: "Evil\x1b]0;pwned\a (Corp) \xff<x>&", Start: at(0), End: at(1), Seq: 1})}
	for _, format := range []string{"text", "jsonl", "json", "xml", "grepable"} {
		t.Run(format, func(t *testing.T) {
			out := string(render(t, format, sc))
			if strings.ContainsAny(out, "\x1b\a") || !utf8.ValidString(out) {
				t.Errorf("raw control bytes or invalid UTF-8 in:\n%q", out)
			}
			checkWellFormed(t, format, []byte(out))
		})
	}
	if out := string(render(t, "grepable", sc)); !strings.Contains(out, `MAC: 00:00:0C:12:34:56 (Evil\x1b]0;pwned\x07 \x28Corp\x29 \xff<x>&)`) {
		t.Errorf("grepable vendor not escaped as its fields are:\n%q", out)
	}
}
