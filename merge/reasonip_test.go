package merge

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// router sends the ICMP errors of reasonIPModel.
var router = netip.MustParseAddr("198.18.1.1")

// reasonIPModel is ttlModel with every silent port instead refused by a
// router's admin-prohibited, and every host down by its host unreachable.
func reasonIPModel(n int) model {
	m := ttlModel(n)
	for i := range m.hosts {
		mh := &m.hosts[i]
		if !mh.host.Up {
			mh.host.Reason, mh.host.TTL, mh.host.ReasonIP = result.ReasonHostUnreach, 254, router
		}
		for j := range mh.ports {
			if p := &mh.ports[j]; p.Reason == result.ReasonNoResponse {
				p.Reason, p.TTL, p.ReasonIP = result.ReasonAdminProhibited, 254, router
			}
		}
	}
	return m
}

// TestMergeKeepsReasonIP merges shards written as jsonl, json and XML:
// each port the router refused has it as reason_ip, in jsonl and XML
// alike, and so has each host it found down, but from XML, whose
// <status> has no reason_ip.
func TestMergeKeepsReasonIP(t *testing.T) {
	m := reasonIPModel(30)
	dir := t.TempDir()
	refused, down := 0, 0
	for _, mh := range m.hosts {
		if !mh.host.Up {
			down++
		}
		for _, p := range mh.ports {
			if p.ReasonIP.IsValid() {
				refused++
			}
		}
	}
	for _, format := range []string{"jsonl", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			all := output.Options{ShowAll: map[result.State]bool{result.Filtered: true}, ShowDown: true}
			var shards []string
			for k := range 3 {
				shards = append(shards, m.shard(k, 3).write(t, filepath.Join(dir, format+strconv.Itoa(k)+"."+format), format, all, nil))
			}
			out, _ := mergeTo(t, "jsonl", all, Options{}, shards...)
			wantDown := down
			if format == "xml" {
				wantDown = 0
			}
			if got := strings.Count(string(out), `"reason":"admin-prohibited","ttl":254,"reason_ip":"198.18.1.1",`); got != refused {
				t.Errorf("%d ports from 198.18.1.1, want %d", got, refused)
			}
			if got := strings.Count(string(out), `"reason":"host-unreach","ttl":254,"reason_ip":"198.18.1.1",`); got != wantDown {
				t.Errorf("%d hosts down from 198.18.1.1, want %d", got, wantDown)
			}
			x, _ := mergeTo(t, "xml", all, Options{}, shards...)
			if s := `reason="admin-prohibited" reason_ttl="254" reason_ip="198.18.1.1">`; !bytes.Contains(x, []byte(s)) {
				t.Errorf("merged XML lacks %s", s)
			}
		})
	}
}

// TestMergeNmapReasonIP merges nmap's XML: its reason_ip is kept.
func TestMergeNmapReasonIP(t *testing.T) {
	out, _ := mergeTo(t, "jsonl", output.Options{ShowAll: map[result.State]bool{result.Filtered: true, result.Closed: true}}, Options{},
		filepath.Join("..", "baseline", "testdata", "nmap-syn.xml"))
	if s := `"port":23,"protocol":"tcp","state":"filtered","reason":"admin-prohibited","ttl":222,"reason_ip":"198.18.1.1",`; !bytes.Contains(out, []byte(s)) {
		t.Errorf("merged nmap XML lacks %s:\n%s", s, out)
	}
	if n := bytes.Count(out, []byte(`"reason_ip"`)); n != 1 {
		t.Errorf("%d reason_ip, want 1:\n%s", n, out)
	}
}

// TestMergeHostReasonIP keeps the reason_ip of the reason the merged
// host takes, and drops it with the reason a part that saw it up gives.
func TestMergeHostReasonIP(t *testing.T) {
	down := result.Host{Addr: hostA, Reason: result.ReasonHostUnreach, TTL: 254, ReasonIP: router, Probes: 2}
	h, _ := mergeHost([]part{{host: down, group: 0}})
	if h.ReasonIP != router {
		t.Errorf("merged down host: %s from %v, want from %v", h.Reason, h.ReasonIP, router)
	}
	h, _ = mergeHost([]part{{host: down, group: 0}, {host: result.Host{Addr: hostA, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Probes: 1}, group: 1}})
	if h.Reason != result.ReasonEchoReply || h.ReasonIP.IsValid() {
		t.Errorf("merged host: %s from %v, want echo-reply from nobody", h.Reason, h.ReasonIP)
	}
}
