package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// ttlScenario is a SYN scan whose answers carry their TTL, as in the
// routed lab: the hosts beyond the router answer with 63 (64 less the
// router's hop), the router's own RST and ICMP errors come with 254, a
// host found by ARP and a silent port have none (0).
func ttlScenario() scenario {
	far, far6 := farHost, netip.MustParseAddr("fd00:2::1")
	router, nobody := netip.MustParseAddr("198.18.64.1"), netip.MustParseAddr("198.18.65.100")
	ttl := func(ev event, ttl uint8) event {
		ev.port.TTL = ttl
		return ev
	}
	return scenario{
		name: "ttl",
		opt:  Options{Reason: true, ShowDown: true, ShowAll: map[result.State]bool{result.Closed: true, result.Filtered: true}, Lang: "en"},
		info: result.Info{Args: []string{"portscan", "-sS", "--reason", "--show", "closed,filtered,down", "-p", "22,23,443,8080",
			"198.18.64.1", "198.18.65.10", "198.18.65.100", "fd00:2::1"}, Start: t0, ScanType: "syn",
			Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "22-23,443,8080", NumPorts: 4, Version: "0.1.0"},
		events: []event{
			ttl(res(router, "", 22, ports.TCP, result.Closed, result.ReasonReset, 40, 10, ssh), 254),
			ttl(res(router, "", 23, ports.TCP, result.Closed, result.ReasonReset, 40, 10, nil), 254),
			ttl(res(router, "", 443, ports.TCP, result.Closed, result.ReasonReset, 40, 11, https), 254),
			ttl(res(router, "", 8080, ports.TCP, result.Closed, result.ReasonReset, 40, 11, custom), 254),
			hostEv(result.Host{Addr: router, Up: true, Reason: result.ReasonARPResponse, Probes: 5, MAC: ciscoMAC, Vendor: cisco,
				Counts: map[result.State]int{result.Closed: 4}, Start: at(0), End: at(12), Seq: 1}),
			ttl(res(far, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 120, 20, ssh), 63),
			ttl(res(far, "", 23, ports.TCP, result.Filtered, result.ReasonAdminProhibited, 90, 21, nil), 254),
			ttl(res(far, "", 443, ports.TCP, result.Closed, result.ReasonReset, 110, 22, https), 63),
			res(far, "", 8080, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1020, custom),
			hostEv(result.Host{Addr: far, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Probes: 6, Silent: 2,
				Counts: map[result.State]int{result.Open: 1, result.Closed: 1, result.Filtered: 2}, Start: at(0), End: at(1020), Seq: 2}),
			hostEv(result.Host{Addr: nobody, Reason: result.ReasonHostUnreach, TTL: 254, Probes: 4, Silent: 3, Start: at(0), End: at(30), Seq: 3}),
			ttl(res(far6, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 130, 23, ssh), 63),
			ttl(res(far6, "", 23, ports.TCP, result.Closed, result.ReasonReset, 120, 24, nil), 63),
			ttl(res(far6, "", 443, ports.TCP, result.Closed, result.ReasonReset, 120, 24, https), 63),
			ttl(res(far6, "", 8080, ports.TCP, result.Closed, result.ReasonReset, 120, 25, custom), 63),
			hostEv(result.Host{Addr: far6, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Probes: 7,
				Counts: map[result.State]int{result.Open: 1, result.Closed: 3}, Start: at(0), End: at(30), Seq: 4}),
		},
		stats: result.Summary{Start: t0, End: at(1100), HostsUp: 3, HostsDown: 1, Probes: 22, Open: 2},
	}
}

// untimed is sc with every TTL unknown, as a connect scan would have it.
func untimed(sc scenario) scenario {
	var ev []event
	for _, e := range sc.events {
		if e.port != nil {
			p := *e.port
			p.TTL = 0
			ev = append(ev, event{port: &p})
		} else {
			h := *e.host
			h.TTL = 0
			ev = append(ev, event{host: &h})
		}
	}
	sc.events = ev
	return sc
}

// TestTTLOutput writes the TTLs of the answers as nmap does where it
// has them: XML's reason_ttl, text's reason column and host line with
// --reason ("syn-ack ttl 63"), jsonl's and json's "ttl", left out when
// unknown. grepable and csv, where nmap has none, are as they were.
func TestTTLOutput(t *testing.T) {
	sc := ttlScenario()
	tests := []formatCase{
		{"text", []string{
			"22/tcp   closed ssh      reset ttl 254 Secure Shell remote login\n",
			"Host is up, received echo-reply ttl 63 (0.00011s latency).\n",
			"22/tcp   open     ssh      syn-ack ttl 63           Secure Shell remote login\n",
			"23/tcp   filtered unknown  admin-prohibited ttl 254\n",
			"443/tcp  closed   https    reset ttl 63             HTTP over TLS\n",
			"8080/tcp filtered 内部代理 no-response              自定义\n",
			"Host is up, received arp-response (0.000040s latency).\n",
		}, []string{"ttl 0", "no-response ttl", "arp-response ttl"}},
		{"xml", []string{
			`<status state="up" reason="arp-response" reason_ttl="0"></status>`,
			`<state state="closed" reason="reset" reason_ttl="254"></state>`,
			`<status state="up" reason="echo-reply" reason_ttl="63"></status>`,
			`<state state="open" reason="syn-ack" reason_ttl="63"></state>`,
			`<state state="filtered" reason="admin-prohibited" reason_ttl="254"></state>`,
			`<state state="filtered" reason="no-response" reason_ttl="0"></state>`,
			`<status state="down" reason="host-unreach" reason_ttl="254"></status>`,
		}, nil},
		{"jsonl", []string{
			`"port":22,"protocol":"tcp","state":"closed","reason":"reset","ttl":254,"service":"ssh"`,
			`"host":"198.18.65.10","up":true,"status":"up","reason":"echo-reply","ttl":63,"latency_ms"`,
			`"state":"filtered","reason":"no-response","service":"内部代理"`,
			`"host":"198.18.64.1","mac":"00:00:0C:12:34:56","vendor":"Cisco Systems, Inc","up":true,"status":"up","reason":"arp-response","latency_ms"`,
		}, []string{`"ttl":0`}},
		{"json", []string{`"reason": "syn-ack",` + "\n" + `          "ttl": 63,`, `"reason": "echo-reply",` + "\n" + `      "ttl": 63,`}, []string{`"ttl": 0`}},
	}
	checkRenders(t, sc, []string{"text", "jsonl", "json", "xml", "grepable", "csv"}, tests)
	checkUnchanged(t, sc, untimed, "the TTLs")
	t.Run("jsonl schema", func(t *testing.T) {
		// An old reader's records read the new lines as before.
		for line := range strings.Lines(string(render(t, "jsonl", sc))) {
			var rec struct {
				Type string
				TTL  *int `json:"ttl"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.TTL != nil && (rec.Type != "port" && rec.Type != "host" || *rec.TTL <= 0 || *rec.TTL > 255) {
				t.Errorf("ttl %d on a %s line: %s", *rec.TTL, rec.Type, line)
			}
		}
	})
}

// TestTTLXMLValidDTD validates the XML of the TTL scenario against
// nmap's DTD, when xmllint and nmap's DTD are installed.
func TestTTLXMLValidDTD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	if _, err := os.Stat(nmapDTD); err != nil {
		t.Skipf("%s not found (Debian package nmap)", nmapDTD)
	}
	path := filepath.Join(t.TempDir(), "ttl.xml")
	if err := os.WriteFile(path, render(t, "xml", ttlScenario()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", nmapDTD, path).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}

// formatCase is what one format's rendering of a scenario must and must
// not contain.
type formatCase struct {
	format    string
	want, not []string
}

// checkRenders checks sc's golden file in each of formats, and each
// case's strings; every rendering must be well formed.
func checkRenders(t *testing.T, sc scenario, formats []string, cases []formatCase) {
	t.Helper()
	for _, format := range formats {
		golden.Check(t, goldenPath(sc, format), render(t, format, sc))
	}
	for _, tt := range cases {
		t.Run(tt.format, func(t *testing.T) {
			out := string(render(t, tt.format, sc))
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

// checkUnchanged checks that what sc has and without(sc) has not (named
// what) changes neither grepable nor csv, where nmap has no place for
// it, nor text without --reason.
func checkUnchanged(t *testing.T, sc scenario, without func(scenario) scenario, what string) {
	t.Helper()
	for _, format := range []string{"grepable", "csv"} {
		t.Run(format+" without "+what, func(t *testing.T) {
			if got, want := render(t, format, sc), render(t, format, without(sc)); !bytes.Equal(got, want) {
				t.Errorf("%s changed the %s output:\n%s\nwithout it:\n%s", what, format, got, want)
			}
		})
	}
	t.Run("text without --reason", func(t *testing.T) {
		sc := sc
		sc.opt.Reason = false
		if got, want := render(t, "text", sc), render(t, "text", without(sc)); !bytes.Equal(got, want) {
			t.Errorf("%s changed text without --reason:\n%s\nwithout it:\n%s", what, got, want)
		}
	})
}
