package output_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

func ExampleNew() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w, err := output.New("text", os.Stdout, output.Options{Lang: "en"})
	if err != nil {
		fmt.Println(err)
		return
	}
	w.Begin(result.Info{Start: start, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 2, Version: "0.1.0"})

	host := netip.MustParseAddr("127.0.0.1")
	ssh := &services.Entry{Name: "ssh", Description: "安全外壳", DescriptionEn: "Secure Shell"}
	w.Port(result.Port{Host: host, Port: ports.Port{Number: 22, Proto: ports.TCP}, State: result.Open,
		Reason: result.ReasonSynAck, RTT: 150 * time.Microsecond, Service: ssh})
	w.Port(result.Port{Host: host, Port: ports.Port{Number: 23, Proto: ports.TCP}, State: result.Closed,
		Reason: result.ReasonConnRefused, RTT: 110 * time.Microsecond})
	w.Host(result.Host{Addr: host, Up: true, Reason: result.ReasonSynAck})

	w.End(result.Summary{Start: start, End: start.Add(time.Second / 4), HostsUp: 1, Probes: 2, Open: 1})
	// Output:
	// Starting portscan 0.1.0 at 2026-01-02 03:04 UTC: connect scan of 2 tcp ports
	//
	// portscan report for 127.0.0.1
	// Host is up (0.00013s latency).
	// Not shown: 1 closed port (conn-refused)
	// PORT   STATE SERVICE DESCRIPTION
	// 22/tcp open  ssh     Secure Shell
	//
	// portscan done: 1 host (1 up) scanned in 0.25 s; 1 open port; 2 probes (8/s)
}

func ExampleNew_jsonl() {
	w, _ := output.New("jsonl", os.Stdout, output.Options{})
	w.Begin(result.Info{Version: "0.1.0", ScanType: "udp", Protocols: []ports.Protocol{ports.UDP}, PortsSpec: "53", NumPorts: 1})
	w.Port(result.Port{Host: netip.MustParseAddr("::1"), Port: ports.Port{Number: 53, Proto: ports.UDP},
		State: result.OpenFiltered, Reason: result.ReasonNoResponse})
	w.End(result.Summary{Interrupted: true})
	// Output:
	// {"type":"scan","scanner":"portscan","version":"0.1.0","args":[],"scan_type":"udp","protocols":["udp"],"ports":"53","num_ports":1}
	// {"type":"port","host":"::1","port":53,"protocol":"udp","state":"open|filtered","reason":"no-response","service":"","description":"","description_en":"","service_source":"","rtt_ms":0,"source":"scan"}
	// {"type":"host","host":"::1","up":false,"status":"unknown","reason":"","latency_ms":0,"probes":0,"silent":0,"counts":{"open|filtered":1},"source":"scan","incomplete":true}
	// {"type":"summary","elapsed_s":0,"hosts":1,"hosts_up":0,"hosts_down":0,"hosts_unknown":1,"open":0,"probes":0,"probes_per_s":0,"interrupted":true}
}

// An html page is one file; here, its rows.
func ExampleNew_html() {
	var page strings.Builder
	w, _ := output.New("html", &page, output.Options{Lang: "en", Title: "Nightly scan"})
	w.Begin(result.Info{ScanType: "connect", Version: "0.1.0"})
	host := netip.MustParseAddr("127.0.0.1")
	w.Port(result.Port{Host: host, Port: ports.Port{Number: 22, Proto: ports.TCP}, State: result.Open, Reason: result.ReasonSynAck,
		Service: &services.Entry{Name: "ssh", DescriptionEn: "Secure Shell"}})
	w.Port(result.Port{Host: host, Port: ports.Port{Number: 8080, Proto: ports.TCP}, State: result.Open, Reason: result.ReasonSynAck,
		Detected: &result.Service{Name: "http", Product: "<b>nginx</b>", Method: result.MethodProbe, Confidence: 10}})
	w.Host(result.Host{Addr: host, Up: true, Counts: map[result.State]int{result.Open: 2}})
	w.End(result.Summary{HostsUp: 1, Open: 2})
	// A port's row runs to its </tr>: a service's description is on a
	// line of its own, under its name.
	inRow := false
	for _, line := range strings.Split(page.String(), "\n") {
		inRow = inRow || strings.HasPrefix(line, `<tr class="r">`)
		if inRow || strings.HasPrefix(line, "<title>") {
			fmt.Println(line)
		}
		inRow = inRow && !strings.HasSuffix(line, "</tr>")
	}
	// Output:
	// <title>Nightly scan</title>
	// <tr class="r"><th scope="row">22/tcp</th><td class="st-open">open</td><td class="s">ssh
	// Secure Shell</td><td>syn-ack</td></tr>
	// <tr class="r"><th scope="row">8080/tcp</th><td class="st-open">open</td><td>http<abbr class="mark" title="detection names another service than the catalog's label">*</abbr></td><td>syn-ack</td><td title="probe, confidence 10">&lt;b&gt;nginx&lt;/b&gt;</td></tr>
}
