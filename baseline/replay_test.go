package baseline

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

const shard1 = `{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan","--shard","1/2","198.18.0.0/30"],"start":"2026-12-01T10:00:00Z","scan_type":"connect","protocols":["tcp"],"ports":"T:22,80","num_ports":2}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","source":"scan"}
{"type":"host","host":"198.18.0.1","up":true,"reason":"syn-ack","counts":{"open":1},"source":"scan"}
{"type":"summary","end":"2026-12-01T10:00:03Z","hosts":1,"hosts_up":1,"hosts_down":0,"open":1,"interrupted":false}
`

const shard2 = `{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan","--shard","2/2","198.18.0.0/30"],"start":"2026-12-01T10:00:01Z","scan_type":"connect","protocols":["tcp"],"ports":"T:22,80","num_ports":2}
{"type":"port","host":"198.18.0.1","port":80,"protocol":"tcp","state":"open","reason":"syn-ack","service":"http","source":"scan"}
{"type":"host","host":"198.18.0.1","up":true,"reason":"syn-ack","counts":{"open":1},"source":"scan"}
{"type":"host","host":"198.18.0.2","up":false,"reason":"no-response","counts":{},"source":"scan"}
{"type":"summary","end":"2026-12-01T10:00:05Z","hosts":2,"hosts_up":1,"hosts_down":1,"open":1,"interrupted":false}
`

// TestReplayShards replays two shards of one scan as one run: the
// earliest start and latest end, a host with the ports of both and the
// sum of their counts, catalog descriptions where the names agree.
func TestReplayShards(t *testing.T) {
	var runs []*Run
	for i, s := range []string{shard1, shard2} {
		r, err := Read("shard"+string(rune('1'+i)), strings.NewReader(s), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if got := strings.Join(runs[0].Args, " "); got != "portscan --shard 1/2 198.18.0.0/30" {
		t.Errorf("args %q", got)
	}
	ssh := &services.Entry{Name: "ssh", DescriptionEn: "Secure Shell", Port: ports.Port{Number: 22, Proto: ports.TCP}}
	www := &services.Entry{Name: "www-http", DescriptionEn: "not the file's name", Port: ports.Port{Number: 80, Proto: ports.TCP}}
	lookup := func(p ports.Port) *services.Entry {
		return map[uint16]*services.Entry{22: ssh, 80: www}[p.Number]
	}
	var info result.Info
	var got []string
	var sum result.Summary
	w := result.Funcs{
		OnBegin: func(i result.Info) { info = i },
		OnPort: func(p result.Port) {
			got = append(got, p.Host.String()+" "+p.Port.String()+" "+p.Service.Name+" "+p.Service.DescriptionEn)
		},
		OnHost: func(h result.Host) {
			got = append(got, h.Addr.String()+" "+h.Status()+" open="+string(rune('0'+h.Counts[result.Open])))
		},
		OnEnd: func(s result.Summary) { sum = s },
	}
	if err := Replay(context.Background(), runs, w, ReplayOptions{Label: lookup, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"198.18.0.1 22/tcp ssh Secure Shell", "198.18.0.1 80/tcp http ", "198.18.0.1 up open=2", "198.18.0.2 down open=0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if !info.Start.Equal(t0) || info.ScanType != "connect" || info.PortsSpec != "T:22,80" || info.Lang != "en" {
		t.Errorf("info %+v", info)
	}
	if !sum.End.Equal(t0.Add(5*time.Second)) || sum.HostsUp != 1 || sum.HostsDown != 1 || sum.Open != 2 {
		t.Errorf("summary %+v", sum)
	}
}

// TestReadKeepsArgsAndEnd reads the command line and the end of a run
// from nmap's XML.
func TestReadKeepsArgsAndEnd(t *testing.T) {
	r, err := ReadFile("testdata/nmap.xml", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Args) != 1 || !strings.HasPrefix(r.Args[0], "nmap ") || r.End.IsZero() || r.End.Before(r.Start) {
		t.Errorf("args %q, start %v, end %v", r.Args, r.Start, r.End)
	}
	if h := r.Host(netip.MustParseAddr("198.18.0.1")); h == nil {
		t.Error("no host 198.18.0.1")
	}
}
