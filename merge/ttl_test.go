package merge

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// ttlModel is the model scan with the TTLs a SYN scan gives: each host
// up by an answer of TTL 63, each port that answered with a TTL of its
// own (60 to 63), the silent ones with none.
func ttlModel(n int) model {
	m := newModel(n)
	for i := range m.hosts {
		mh := &m.hosts[i]
		if mh.host.Up {
			mh.host.TTL = 63
		}
		for j := range mh.ports {
			if p := &mh.ports[j]; p.Reason != result.ReasonNoResponse {
				p.TTL = uint8(60 + j%4)
			}
		}
	}
	return m
}

// TestMergeKeepsTTL merges shards of a scan whose answers carry their
// TTLs, in portscan's jsonl, json and XML: every port's and host's TTL
// comes out as the scan gave it, and the merge of the shards is the
// merge of the single run.
func TestMergeKeepsTTL(t *testing.T) {
	m := ttlModel(30)
	dir := t.TempDir()
	single := m.write(t, filepath.Join(dir, "single.jsonl"), "jsonl", output.Options{}, nil)
	shards := m.writeShards(t, dir, 3, "jsonl", "json", "xml")
	want := map[string]uint8{}
	for _, mh := range m.hosts {
		want[mh.host.Addr.String()] = mh.host.TTL
		for _, p := range mh.ports {
			want[mh.host.Addr.String()+" "+p.Port.String()] = p.TTL
		}
	}
	for _, paths := range [][]string{{single}, shards} {
		out, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, paths...)
		got := 0
		for _, l := range jsonlRecords(t, out) {
			var rec struct {
				Host     string
				Port     uint16
				Protocol string
				TTL      uint8
			}
			if err := json.Unmarshal(l.raw, &rec); err != nil {
				t.Fatal(err)
			}
			k := rec.Host
			switch l.typ {
			case "port":
				k += " " + strconv.Itoa(int(rec.Port)) + "/" + rec.Protocol
			case "host":
			default:
				continue
			}
			got++
			if w, ok := want[k]; !ok || rec.TTL != w {
				t.Errorf("%d files: %s: ttl %d, want %d", len(paths), k, rec.TTL, w)
			}
		}
		if got == 0 {
			t.Fatalf("%d files: no port or host line:\n%s", len(paths), out)
		}
		x, _ := mergeTo(t, "xml", output.Options{}, Options{}, paths...)
		for _, s := range []string{`<status state="up" reason="syn-ack" reason_ttl="63">`, `<state state="open" reason="syn-ack" reason_ttl="6`} {
			if !bytes.Contains(x, []byte(s)) {
				t.Errorf("%d files: merged XML lacks %s", len(paths), s)
			}
		}
	}
}

// TestMergeNmapTTL merges nmap's XML: its reason_ttl is kept.
func TestMergeNmapTTL(t *testing.T) {
	out, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, filepath.Join("..", "baseline", "testdata", "nmap-syn.xml"))
	for _, s := range []string{
		`"host":"198.18.2.1","up":true,"status":"up","reason":"echo-reply","ttl":110,`,
		`"host":"198.18.2.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","ttl":110,`,
		`"host":"198.18.1.1","up":true,"status":"up","reason":"arp-response","latency_ms"`,
	} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("merged nmap XML lacks %s:\n%s", s, out)
		}
	}
}

// TestMergeHostTTL keeps the TTL of the reason the merged host takes:
// that of the part that saw it up.
func TestMergeHostTTL(t *testing.T) {
	h, _ := mergeHost([]part{
		{host: result.Host{Addr: hostA, Reason: result.ReasonHostUnreach, TTL: 254, Probes: 2}, group: 0},
		{host: result.Host{Addr: hostA, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Probes: 1}, group: 1},
		{host: result.Host{Addr: hostA, Up: true, Reason: result.ReasonSynAck, TTL: 62, Probes: 1}, group: 2},
	})
	if h.Reason != result.ReasonEchoReply || h.TTL != 63 {
		t.Errorf("merged host: %s ttl %d, want echo-reply ttl 63", h.Reason, h.TTL)
	}
	h, _ = mergeHost([]part{{host: result.Host{Addr: hostA, Reason: result.ReasonHostUnreach, TTL: 254, Probes: 2}, group: 0}})
	if h.Up || h.Reason != result.ReasonHostUnreach || h.TTL != 254 {
		t.Errorf("merged down host: %s ttl %d, want host-unreach ttl 254", h.Reason, h.TTL)
	}
}
