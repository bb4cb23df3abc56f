package baseline

import (
	"bytes"
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// ttlRun is a SYN scan whose answers carry their TTL: a host beyond a
// router (its SYN-ACK and RST with 63, the router's ICMP error with
// 254, a silent port with none), found up by an echo reply of 63, and
// one found down by the router's host unreachable.
func ttlRun() ([]result.Port, []result.Host) {
	far, nobody := netip.MustParseAddr("198.18.65.10"), netip.MustParseAddr("198.18.65.100")
	port := func(n uint16, st result.State, reason string, ttl uint8) result.Port {
		return result.Port{Host: far, Port: ports.Port{Number: n, Proto: ports.TCP}, State: st, Reason: reason, TTL: ttl}
	}
	return []result.Port{
			port(22, result.Open, result.ReasonSynAck, 63),
			port(23, result.Filtered, result.ReasonAdminProhibited, 254),
			port(443, result.Closed, result.ReasonReset, 63),
			port(8080, result.Filtered, result.ReasonNoResponse, 0),
		}, []result.Host{
			{Addr: far, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Counts: map[result.State]int{result.Open: 1, result.Closed: 1, result.Filtered: 2}},
			{Addr: nobody, Reason: result.ReasonHostUnreach, TTL: 254, Counts: map[result.State]int{}},
		}
}

// written is the TTL run as format writes it, every port and host listed.
func written(t *testing.T, format string) []byte {
	t.Helper()
	list, hosts := ttlRun()
	return writtenWith(t, format, list, hosts)
}

// ttls sums a run's TTLs up: each host's, and each port's.
func ttls(r *Run) string {
	var b strings.Builder
	for _, h := range r.Hosts() {
		b.WriteString(h.Addr.String() + " " + h.Reason + " " + strconv.Itoa(int(h.TTL)) + ":")
		for _, p := range []uint16{22, 23, 80, 443, 8080} {
			if st, ok := h.Ports[ports.Port{Number: p, Proto: ports.TCP}]; ok {
				b.WriteString(" " + strconv.Itoa(int(p)) + "=" + st.Reason + "/" + strconv.Itoa(int(st.TTL)))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestReadTTL reads the TTLs back from each format that writes them:
// portscan's jsonl, json and XML, and nmap's own XML (a -sS --reason
// scan of the routed lab, whose hosts send with 111 and router with
// 222), so that diff, merge and report keep them.
func TestReadTTL(t *testing.T) {
	const want = "198.18.65.10 echo-reply 63: 22=syn-ack/63 23=admin-prohibited/254 443=reset/63 8080=no-response/0\n" +
		"198.18.65.100 host-unreach 254:\n"
	for _, format := range []string{"jsonl", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			r, err := Read("f."+format, bytes.NewReader(written(t, format)), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ttls(r); got != want {
				t.Errorf("read back:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	t.Run("nmap", func(t *testing.T) {
		r, err := ReadFile("testdata/nmap-syn.xml", ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := "198.18.1.1 arp-response 0: 22=reset/222 23=reset/222 80=reset/222 443=reset/222\n" +
			"198.18.2.1 echo-reply 110: 22=syn-ack/110 23=admin-prohibited/222 80=syn-ack/110 443=reset/110\n" +
			"198.18.2.2 echo-reply 110: 22=reset/110 23=reset/110 80=reset/110 443=syn-ack/110\n"
		if got := ttls(r); got != want {
			t.Errorf("read back:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestReadTTLInvalid refuses a reason_ttl that is no TTL, saying where,
// and a jsonl ttl out of range.
func TestReadTTLInvalid(t *testing.T) {
	for _, tt := range []struct{ name, data, msg string }{
		{"status", `<nmaprun><host><status state="up" reason="echo-reply" reason_ttl="256"/><address addr="198.18.0.1" addrtype="ipv4"/></host></nmaprun>`,
			`f:1:10: host: status: reason_ttl "256" is not a TTL (0 to 255)`},
		{"port", `<nmaprun><host><status state="up" reason="echo-reply" reason_ttl="64"/><address addr="198.18.0.1" addrtype="ipv4"/>` +
			`<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="x"/></port></ports></host></nmaprun>`,
			`f:1:10: host: port 22: reason_ttl "x" is not a TTL (0 to 255)`},
		{"jsonl", `{"type":"scan","scanner":"portscan"}` + "\n" + `{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","ttl":300}` + "\n",
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

// TestReplayTTL replays nmap's XML into portscan's writers: the TTLs
// come out as they went in, reason_ttl as nmap wrote it.
func TestReplayTTL(t *testing.T) {
	r, err := ReadFile("testdata/nmap-syn.xml", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		format string
		want   []string
	}{
		{"xml", []string{`<status state="up" reason="echo-reply" reason_ttl="110">`, `<state state="filtered" reason="admin-prohibited" reason_ttl="222" reason_ip="198.18.1.1">`,
			`<status state="up" reason="arp-response" reason_ttl="0">`, `<state state="closed" reason="reset" reason_ttl="222">`}},
		{"jsonl", []string{`"host":"198.18.2.1","up":true,"status":"up","reason":"echo-reply","ttl":110,`, `"port":23,"protocol":"tcp","state":"filtered","reason":"admin-prohibited","ttl":222,`}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			all := map[result.State]bool{result.Closed: true, result.Filtered: true}
			w, err := output.New(tt.format, &buf, output.Options{ShowAll: all})
			if err != nil {
				t.Fatal(err)
			}
			if err := Replay(context.Background(), []*Run{r}, w, ReplayOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !bytes.Contains(buf.Bytes(), []byte(s)) {
					t.Errorf("replayed %s lacks %s:\n%s", tt.format, s, buf.Bytes())
				}
			}
		})
	}
}
