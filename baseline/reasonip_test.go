package baseline

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// theRouter sends ttlRun's ICMP errors in reasonIPRun.
var theRouter = netip.MustParseAddr("198.18.64.1")

// reasonIPRun is ttlRun with the router named as the sender of its
// admin-prohibited and of its host unreachable.
func reasonIPRun() ([]result.Port, []result.Host) {
	list, hosts := ttlRun()
	for i := range list {
		if list[i].Reason == result.ReasonAdminProhibited {
			list[i].ReasonIP = theRouter
		}
	}
	for i := range hosts {
		if hosts[i].Reason == result.ReasonHostUnreach {
			hosts[i].ReasonIP = theRouter
		}
	}
	return list, hosts
}

// writtenWith is the run of list and hosts as format writes it.
func writtenWith(t *testing.T, format string, list []result.Port, hosts []result.Host) []byte {
	t.Helper()
	var buf bytes.Buffer
	all := map[result.State]bool{result.Open: true, result.Closed: true, result.Filtered: true}
	w, err := output.New(format, &buf, output.Options{ShowAll: all, ShowDown: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(result.Info{Args: []string{"portscan", "-sS"}, ScanType: "syn", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "22-23,443,8080", NumPorts: 4}); err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if err := w.Port(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hosts {
		if err := w.Host(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.End(result.Summary{HostsUp: 1, HostsDown: 1, Open: 1}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// senders sums a run's reason_ip up: each host's and each port's that
// has one.
func senders(r *Run) string {
	var b strings.Builder
	for _, h := range r.Hosts() {
		b.WriteString(h.Addr.String() + " " + h.Reason)
		if h.ReasonIP.IsValid() {
			b.WriteString(" from " + h.ReasonIP.String())
		}
		b.WriteString(":")
		for _, p := range []uint16{22, 23, 80, 443, 8080} {
			if st, ok := h.Ports[ports.Port{Number: p, Proto: ports.TCP}]; ok && st.ReasonIP.IsValid() {
				b.WriteString(" " + st.Reason + " from " + st.ReasonIP.String())
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestReadReasonIP reads reason_ip back from portscan's jsonl, json and
// XML (whose <status> has none, as nmap's DTD) and from nmap's own XML of
// the routed lab, and Replay writes it again.
func TestReadReasonIP(t *testing.T) {
	list, hosts := reasonIPRun()
	for _, tt := range []struct{ format, want string }{
		{"jsonl", "198.18.65.10 echo-reply: admin-prohibited from 198.18.64.1\n198.18.65.100 host-unreach from 198.18.64.1:\n"},
		{"json", "198.18.65.10 echo-reply: admin-prohibited from 198.18.64.1\n198.18.65.100 host-unreach from 198.18.64.1:\n"},
		{"xml", "198.18.65.10 echo-reply: admin-prohibited from 198.18.64.1\n198.18.65.100 host-unreach:\n"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			r, err := Read("f."+tt.format, bytes.NewReader(writtenWith(t, tt.format, list, hosts)), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := senders(r); got != tt.want {
				t.Errorf("read back:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	r, err := ReadFile("testdata/nmap-syn.xml", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "198.18.1.1 arp-response:\n198.18.2.1 echo-reply: admin-prohibited from 198.18.1.1\n198.18.2.2 echo-reply:\n"
	if got := senders(r); got != want {
		t.Errorf("nmap's XML read back:\n%s\nwant:\n%s", got, want)
	}
	var buf bytes.Buffer
	w, err := output.New("xml", &buf, output.Options{ShowAll: map[result.State]bool{result.Filtered: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Replay(context.Background(), []*Run{r}, w, ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := `<state state="filtered" reason="admin-prohibited" reason_ttl="222" reason_ip="198.18.1.1">`; !bytes.Contains(buf.Bytes(), []byte(s)) {
		t.Errorf("replayed XML lacks %s:\n%s", s, buf.Bytes())
	}
}

// TestReadReasonIPInvalid refuses a reason_ip that is no IP address,
// saying where.
func TestReadReasonIPInvalid(t *testing.T) {
	for _, tt := range []struct{ name, data, msg string }{
		{"port", `<nmaprun><host><status state="up" reason="echo-reply" reason_ttl="64"/><address addr="198.18.0.1" addrtype="ipv4"/>` +
			`<ports><port protocol="tcp" portid="23"><state state="filtered" reason="admin-prohibited" reason_ttl="64" reason_ip="router"/></port></ports></host></nmaprun>`,
			`f:1:10: host: port 23: reason_ip "router" is not an IP address`},
		{"jsonl", `{"type":"scan","scanner":"portscan"}` + "\n" + `{"type":"port","host":"198.18.0.1","port":23,"protocol":"tcp","state":"filtered","reason":"admin-prohibited","reason_ip":"198.18.1"}` + "\n",
			"f:2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read("f", strings.NewReader(tt.data), ReadOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one starting %q", err, tt.msg)
			}
			checkShort(t, "f", err)
		})
	}
}
