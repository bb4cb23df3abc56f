package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/netip"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

var tcpInfo = result.Info{Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "22,80", NumPorts: 2, Version: "0.1.0"}

// downHost is a host that answered neither discovery probe.
func downHost(a netip.Addr, seq uint64) event {
	return hostEv(result.Host{Addr: a, Up: false, Reason: result.ReasonNoResponse, Probes: 2, Silent: 2, Start: at(0), End: at(1000), Seq: seq})
}

// jsonlHosts returns the host lines of jsonl output, and the summary.
func jsonlHosts(t *testing.T, out []byte) ([]map[string]any, map[string]any) {
	t.Helper()
	var hosts []map[string]any
	var sum map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		switch rec["type"] {
		case "host":
			hosts = append(hosts, rec)
		case "summary":
			sum = rec
		}
	}
	return hosts, sum
}

// jsonDoc decodes json output into its hosts and summary.
func jsonDoc(t *testing.T, out []byte) ([]map[string]any, map[string]any) {
	t.Helper()
	var doc struct {
		Hosts   []map[string]any
		Summary map[string]any
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return doc.Hosts, doc.Summary
}

// xmlHosts returns the status of each <host> of xml output, and the
// runstats hosts counts.
func xmlHosts(t *testing.T, out []byte) ([]string, [3]string) {
	t.Helper()
	var doc struct {
		Hosts []struct {
			Comment string `xml:"comment,attr"`
			Status  struct {
				State  string `xml:"state,attr"`
				Reason string `xml:"reason,attr"`
			} `xml:"status"`
			Address struct {
				Addr string `xml:"addr,attr"`
			} `xml:"address"`
		} `xml:"host"`
		Stats struct {
			Hosts struct {
				Up    string `xml:"up,attr"`
				Down  string `xml:"down,attr"`
				Total string `xml:"total,attr"`
			} `xml:"hosts"`
		} `xml:"runstats"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var st []string
	for _, h := range doc.Hosts {
		st = append(st, h.Address.Addr+" "+h.Status.State+" "+h.Status.Reason)
	}
	return st, [3]string{doc.Stats.Hosts.Up, doc.Stats.Hosts.Down, doc.Stats.Hosts.Total}
}

// TestDownHosts checks that a host found down is reported: a host line
// in jsonl and json whatever the options, a note in text for a lone
// target and a count for many, and a block per host in text and xml
// with ShowDown.
func TestDownHosts(t *testing.T) {
	one := scenario{
		info:   tcpInfo,
		events: []event{downHost(local2, 1)},
		stats:  result.Summary{Start: t0, End: at(1000), HostsDown: 1, Probes: 2},
	}
	var manyEv []event
	for i := range 3 {
		manyEv = append(manyEv, downHost(netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}), uint64(i+2)))
	}
	many := scenario{
		info: tcpInfo,
		events: append([]event{
			res(local, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 50, 1, ssh),
			res(local, "", 80, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, http),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonSynAck, Counts: map[result.State]int{result.Open: 1, result.Closed: 1}, Seq: 1}),
		}, manyEv...),
		stats: result.Summary{Start: t0, End: at(1000), HostsUp: 1, HostsDown: 3, Probes: 8, Open: 1},
	}
	// -Pn: every port was probed, and none answered.
	pn := one
	pn.events = []event{
		res(local2, "", 22, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1, ssh),
		res(local2, "", 80, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1, http),
		hostEv(result.Host{Addr: local2, Reason: result.ReasonNoResponse, Probes: 4, Silent: 4,
			Counts: map[result.State]int{result.Filtered: 2}, Seq: 1}),
	}
	pn.stats.Probes = 4

	for _, tc := range []struct {
		name     string
		sc       scenario
		showDown bool
		text     []string // lines text must have
		notText  []string // and must not
		xml      []string // the hosts xml lists
	}{
		{"one", one, false,
			[]string{"Note: 127.0.0.2 seems down: no answer to 2 probes (no-response). If it is up but drops discovery probes, scan it with --skip-discovery (-Pn).\n",
				"portscan done: 1 host (0 up) scanned"},
			[]string{"portscan report for"}, nil},
		{"one -Pn", pn, false,
			[]string{"Note: 127.0.0.2 seems down: none of its 2 ports answered 4 probes (no-response)."},
			[]string{"portscan report for", "--skip-discovery"}, nil},
		{"one shown", one, true,
			[]string{"portscan report for 127.0.0.2", "Host seems down: no answer to 2 probes (no-response)."},
			[]string{"Note:"}, []string{"127.0.0.2 down no-response"}},
		{"many", many, false,
			[]string{"portscan report for 127.0.0.1", "Not shown: 3 down hosts (no-response); --show down lists them\n",
				"portscan done: 4 hosts (1 up) scanned"},
			[]string{"portscan report for 127.0.0.2", "Note:"}, []string{"127.0.0.1 up syn-ack"}},
		{"many shown", many, true,
			[]string{"portscan report for 127.0.0.2", "portscan report for 127.0.0.4", "Host seems down: no answer to 2 probes (no-response)."},
			[]string{"Not shown: 3 down hosts", "Note:"},
			[]string{"127.0.0.1 up syn-ack", "127.0.0.2 down no-response", "127.0.0.3 down no-response", "127.0.0.4 down no-response"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			sc.opt.ShowDown = tc.showDown
			text := string(render(t, "text", sc))
			for _, want := range tc.text {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			for _, bad := range tc.notText {
				if strings.Contains(text, bad) {
					t.Errorf("text has %q:\n%s", bad, text)
				}
			}

			// The machine formats list every host, whatever ShowDown.
			wantDown := sc.stats.HostsDown
			for _, format := range []string{"jsonl", "json"} {
				var hosts []map[string]any
				var sum map[string]any
				if format == "jsonl" {
					hosts, sum = jsonlHosts(t, render(t, format, sc))
				} else {
					hosts, sum = jsonDoc(t, render(t, format, sc))
				}
				down := 0
				for _, h := range hosts {
					if h["status"] == "down" {
						down++
						if h["up"] != false || h["reason"] != "no-response" {
							t.Errorf("%s: down host %v", format, h)
						}
					}
				}
				if down != wantDown || len(hosts) != int(sum["hosts"].(float64)) {
					t.Errorf("%s: %d down hosts of %d listed, summary %v; want %d down", format, down, len(hosts), sum, wantDown)
				}
			}

			got, counts := xmlHosts(t, render(t, "xml", sc))
			if strings.Join(got, ",") != strings.Join(tc.xml, ",") {
				t.Errorf("xml lists hosts %q, want %q", got, tc.xml)
			}
			if counts[1] != string(rune('0'+wantDown)) {
				t.Errorf("xml runstats hosts %v, want %d down", counts, wantDown)
			}
		})
	}
}

// TestFolding checks that a state the user named (ShowAll) is listed in
// full, and that a "Not shown" line says when ports were folded.
func TestFolding(t *testing.T) {
	var ev []event
	for p := uint16(1000); p < 1030; p++ {
		ev = append(ev, res(local, "", p, ports.TCP, result.Closed, result.ReasonConnRefused, 10, 1, nil))
	}
	ev = append(ev, res(local, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 10, 1, ssh),
		hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonSynAck, Counts: map[result.State]int{result.Open: 1, result.Closed: 30}}))
	sc := scenario{info: tcpInfo, events: ev, stats: result.Summary{Start: t0, End: at(10), HostsUp: 1, Probes: 31, Open: 1}}
	show := map[result.State]bool{result.Open: true, result.OpenFiltered: true, result.Closed: true}

	t.Run("named", func(t *testing.T) {
		sc := sc
		sc.opt = Options{Show: show, ShowAll: map[result.State]bool{result.Closed: true}}
		text := string(render(t, "text", sc))
		if n := strings.Count(text, "/tcp closed"); n != 30 || strings.Contains(text, "Not shown") {
			t.Errorf("text lists %d closed ports of 30:\n%s", n, text)
		}
		if n := strings.Count(string(render(t, "xml", sc)), `state="closed"`); n != 30 {
			t.Errorf("xml lists %d closed ports of 30", n)
		}
	})
	t.Run("folded", func(t *testing.T) {
		sc := sc
		sc.opt = Options{Show: show}
		text := string(render(t, "text", sc))
		want := "Not shown: 30 closed ports (conn-refused); closed folded, more than 25 on this host: --show closed lists them\n"
		if !strings.Contains(text, want) || strings.Contains(text, "/tcp closed") {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	})
	t.Run("not shown", func(t *testing.T) {
		sc := sc
		sc.opt = Options{}
		text := string(render(t, "text", sc))
		if want := "Not shown: 30 closed ports (conn-refused)\n"; !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	})
}

// TestInterruptedCounts checks that an interrupted run's summary counts
// every host its document lists, those closed at End included.
func TestInterruptedCounts(t *testing.T) {
	sc := scenarios()[1] // interrupted: ::1 never got its Host event
	if sc.name != "interrupted" {
		t.Fatalf("scenario %q", sc.name)
	}
	hosts, sum := jsonDoc(t, render(t, "json", sc))
	if len(hosts) != 2 || sum["hosts"] != float64(len(hosts)) || sum["hosts_up"] != float64(2) {
		t.Errorf("json lists %d hosts; summary %v", len(hosts), sum)
	}
	lhosts, lsum := jsonlHosts(t, render(t, "jsonl", sc))
	if len(lhosts) != 2 || lsum["hosts"] != float64(len(lhosts)) || lhosts[1]["incomplete"] != true {
		t.Errorf("jsonl lists %d hosts %v; summary %v", len(lhosts), lhosts, lsum)
	}
	text := string(render(t, "text", sc))
	if want := "portscan interrupted: 2 hosts (2 up) scanned"; !strings.Contains(text, want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
	if _, counts := xmlHosts(t, render(t, "xml", sc)); counts != [3]string{"2", "0", "2"} {
		t.Errorf("xml runstats hosts %v", counts)
	}

	// A host the producer closed as incomplete before it answered is of
	// unknown state.
	sc.events = append(sc.events, hostEv(result.Host{Addr: local2, Incomplete: true, Probes: 1, Seq: 3}))
	sc.stats.HostsUnknown = 1
	hosts, sum = jsonDoc(t, render(t, "json", sc))
	if len(hosts) != 3 || sum["hosts"] != float64(3) || sum["hosts_unknown"] != float64(1) || hosts[1]["status"] != "unknown" {
		t.Errorf("json lists %v; summary %v", hosts, sum)
	}
	if text := string(render(t, "text", sc)); !strings.Contains(text, "portscan interrupted: 3 hosts (2 up, 1 unknown) scanned") {
		t.Errorf("text:\n%s", text)
	}
}

// TestTarpitHost checks each format flags a tarpit and a host cut short.
func TestTarpitHost(t *testing.T) {
	var ev []event
	for p := uint16(1); p <= 120; p++ {
		ev = append(ev, res(local, "", p, ports.TCP, result.Open, result.ReasonSynAck, 10, 1, nil))
	}
	h := result.Host{Addr: local, Up: true, Reason: result.ReasonSynAck, Counts: map[result.State]int{result.Open: 120},
		Tarpit: true, CutShort: true, Unscanned: 1880, Probes: 120}
	sc := scenario{info: tcpInfo, events: append(ev, hostEv(h)), stats: result.Summary{Start: t0, End: at(10), HostsUp: 1, Probes: 120, Open: 120}}

	text := string(render(t, "text", sc))
	for _, want := range []string{
		"Warning: 127.0.0.1 answered open on 120 of the 120 ports with a state: a tarpit, or a firewall redirecting every port to one listener? Its open ports say nothing of its services.\n",
		"Probing stopped at 120 open ports (the cap on open ports per host); 1880 ports not scanned.\n",
		"; 120 open ports (120 on 1 host that looks like a tarpit)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	hosts, _ := jsonlHosts(t, render(t, "jsonl", sc))
	if len(hosts) != 1 || hosts[0]["tarpit"] != true || hosts[0]["cut_short"] != true || hosts[0]["unscanned"] != float64(1880) {
		t.Errorf("jsonl hosts %v", hosts)
	}
	jhosts, _ := jsonDoc(t, render(t, "json", sc))
	if len(jhosts) != 1 || jhosts[0]["tarpit"] != true || jhosts[0]["cut_short"] != true {
		t.Errorf("json hosts %v", jhosts)
	}
	x := string(render(t, "xml", sc))
	if !strings.Contains(x, `comment="tarpit: answered open on 120 of the 120 ports with a state; cut short at 120 open ports, 1880 ports not scanned"`) {
		t.Errorf("xml host lacks the comment:\n%s", x[:min(len(x), 1500)])
	}
}
