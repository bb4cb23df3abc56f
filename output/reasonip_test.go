package output

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// labRouter is the router of ttlScenario, which sends its ICMP errors.
var labRouter = netip.MustParseAddr("198.18.64.1")

// reasonIPScenario is ttlScenario with the router named as the sender of
// the ICMP errors it sent: the admin-prohibited of 198.18.65.10 port 23
// and the host unreachable that left 198.18.65.100 down.
func reasonIPScenario() scenario {
	sc := ttlScenario()
	sc.name = "reasonip"
	var ev []event
	for _, e := range sc.events {
		switch {
		case e.port != nil && e.port.Reason == "admin-prohibited":
			p := *e.port
			p.ReasonIP = labRouter
			e = event{port: &p}
		case e.host != nil && e.host.Reason == "host-unreach":
			h := *e.host
			h.ReasonIP = labRouter
			e = event{host: &h}
		}
		ev = append(ev, e)
	}
	sc.events = ev
	return sc
}

// unrouted is sc with every ReasonIP zero.
func unrouted(sc scenario) scenario {
	var ev []event
	for _, e := range sc.events {
		if e.port != nil {
			p := *e.port
			p.ReasonIP = netip.Addr{}
			ev = append(ev, event{port: &p})
		} else {
			h := *e.host
			h.ReasonIP = netip.Addr{}
			ev = append(ev, event{host: &h})
		}
	}
	sc.events = ev
	return sc
}

// TestReasonIPOutput writes who sent an ICMP error, when not the target,
// as nmap does: XML's reason_ip on <state> (not on <status>, where nmap's
// DTD has none), text's reason with --reason ("admin-prohibited from
// 198.18.64.1 ttl 254", never on the host's line), jsonl's and json's
// "reason_ip", left out when there is none. grepable and csv are as they
// were.
func TestReasonIPOutput(t *testing.T) {
	sc := reasonIPScenario()
	tests := []formatCase{
		{"text", []string{"23/tcp   filtered unknown  admin-prohibited from 198.18.64.1 ttl 254\n"}, []string{"received echo-reply from"}},
		{"xml", []string{
			`<state state="filtered" reason="admin-prohibited" reason_ttl="254" reason_ip="198.18.64.1"></state>`,
			`<status state="down" reason="host-unreach" reason_ttl="254"></status>`,
			`<state state="open" reason="syn-ack" reason_ttl="63"></state>`,
		}, []string{`reason_ip=""`}},
		{"jsonl", []string{
			`"state":"filtered","reason":"admin-prohibited","ttl":254,"reason_ip":"198.18.64.1","service":""`,
			`"host":"198.18.65.100","up":false,"status":"down","reason":"host-unreach","ttl":254,"reason_ip":"198.18.64.1","latency_ms"`,
		}, []string{`"reason_ip":""`}},
		{"json", []string{`"ttl": 254,` + "\n" + `          "reason_ip": "198.18.64.1",`}, []string{`"reason_ip": ""`}},
		{"html", []string{`<td>admin-prohibited <span class="muted">from 198.18.64.1</span> <span class="muted">ttl 254</span></td>`}, []string{"received echo-reply from", "from </span>"}},
	}
	checkRenders(t, sc, []string{"text", "jsonl", "json", "xml", "grepable", "csv", "html"}, tests)
	checkUnchanged(t, sc, unrouted, "reason_ip")
}

// TestReasonIPXMLValidDTD validates the XML of the reason_ip scenario
// against nmap's DTD, when xmllint and nmap's DTD are installed.
func TestReasonIPXMLValidDTD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	if _, err := os.Stat(nmapDTD); err != nil {
		t.Skipf("%s not found (Debian package nmap)", nmapDTD)
	}
	path := filepath.Join(t.TempDir(), "reasonip.xml")
	if err := os.WriteFile(path, render(t, "xml", reasonIPScenario()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", nmapDTD, path).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}
