package output

import (
	"net/netip"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// FuzzWriters feeds arbitrary names, catalog text and reasons, as a
// hostile catalog or capture could supply, to every format and checks
// the output stays well formed.
func FuzzWriters(f *testing.F) {
	f.Add("localhost", "ssh", "安全外壳", "Secure Shell", "syn-ack", "--reason", uint16(22), uint8(1), true)
	f.Add("", "", "", "", "", "", uint16(0), uint8(0), false)
	f.Add("a<b>&\"'", "x]]>y", "<!-- -->", "\x00\x1b[31m\xff", "no\nresponse", "-", uint16(65535), uint8(4), true)
	f.Fuzz(func(t *testing.T, hostname, service, zh, en, reason, arg string, port uint16, state uint8, v6 bool) {
		state %= uint8(result.OpenFiltered) + 1
		addr := netip.MustParseAddr("127.0.0.1")
		if v6 {
			addr = netip.MustParseAddr("::1")
		}
		e := &services.Entry{Name: service, Description: zh, DescriptionEn: en, Source: hostname}
		r := result.Port{Host: addr, Hostname: hostname, Port: ports.Port{Number: port, Proto: ports.UDP},
			State: result.State(state), Reason: reason, RTT: time.Duration(port), Service: e}
		sc := scenario{
			opt:    Options{Show: map[result.State]bool{result.State(state): true}, Reason: true, Color: v6, ShowDown: true},
			info:   result.Info{Args: []string{"portscan", arg, hostname}, Start: t0, ScanType: "udp", PortsSpec: arg, Version: zh},
			events: []event{{port: &r}},
			stats:  result.Summary{Start: t0, End: t0, Interrupted: v6},
		}
		if !v6 {
			sc.events = append(sc.events, hostEv(result.Host{Addr: addr, Hostname: hostname, Reason: reason}))
		}
		for _, format := range Formats() {
			out := render(t, format, sc)
			checkWellFormed(t, format, out)
		}
	})
}
