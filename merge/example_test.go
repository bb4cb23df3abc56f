package merge_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portscan/portscan/merge"
	"github.com/portscan/portscan/output"
)

// Two shards of one scan, as `portscan --shards 2 --shard-index K
// --seed 7 --format jsonl` writes them: each lists the open ports it
// found and counts the others, for every host it had ports of.
var shards = []string{
	`{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan","--shards","2","--shard-index","0","--seed","7","-p","22,80,443","198.18.0.1-2"],"start":"2026-12-01T18:00:00Z","scan_type":"connect","protocols":["tcp"],"ports":"T:22,80,443","num_ports":3,"seed":7,"fingerprint":"88cececa7f0d90a65d21ab1265a550c9","shard":{"index":0,"count":2}}
{"type":"port","host":"198.18.0.2","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","description":"","description_en":"Secure Shell (SSH) service","service_source":"builtin","rtt_ms":0.2,"time":"2026-12-01T18:00:00.1Z","source":"scan","shard":0}
{"type":"host","host":"198.18.0.2","up":true,"status":"up","reason":"syn-ack","latency_ms":0.2,"probes":2,"silent":0,"counts":{"open":1,"closed":1},"start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:00.2Z","source":"scan","index":2,"shard":0}
{"type":"host","host":"198.18.0.1","up":true,"status":"up","reason":"conn-refused","latency_ms":0.1,"probes":1,"silent":0,"counts":{"closed":1},"start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:00.3Z","source":"scan","index":1,"shard":0}
{"type":"summary","start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:01Z","elapsed_s":1,"hosts":2,"hosts_up":2,"hosts_down":0,"hosts_unknown":0,"open":1,"probes":3,"probes_per_s":3,"interrupted":false}
`,
	`{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan","--shards","2","--shard-index","1","--seed","7","-p","22,80,443","198.18.0.1-2"],"start":"2026-12-01T18:00:00Z","scan_type":"connect","protocols":["tcp"],"ports":"T:22,80,443","num_ports":3,"seed":7,"fingerprint":"88cececa7f0d90a65d21ab1265a550c9","shard":{"index":1,"count":2}}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","description":"","description_en":"Secure Shell (SSH) service","service_source":"builtin","rtt_ms":0.3,"time":"2026-12-01T18:00:00.1Z","source":"scan","shard":1}
{"type":"port","host":"198.18.0.1","port":443,"protocol":"tcp","state":"open","reason":"syn-ack","service":"https","description":"","description_en":"Secure Hypertext Transfer Protocol (HTTP)","service_source":"builtin","rtt_ms":0.3,"time":"2026-12-01T18:00:00.2Z","source":"scan","shard":1}
{"type":"host","host":"198.18.0.1","up":true,"status":"up","reason":"syn-ack","latency_ms":0.3,"probes":2,"silent":0,"counts":{"open":2},"start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:00.4Z","source":"scan","index":1,"shard":1}
{"type":"host","host":"198.18.0.2","up":true,"status":"up","reason":"conn-refused","latency_ms":0.1,"probes":1,"silent":0,"counts":{"closed":1},"start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:00.3Z","source":"scan","index":2,"shard":1}
{"type":"summary","start":"2026-12-01T18:00:00Z","end":"2026-12-01T18:00:02Z","elapsed_s":2,"hosts":2,"hosts_up":2,"hosts_down":0,"hosts_unknown":0,"open":2,"probes":3,"probes_per_s":1.5,"interrupted":false}
`,
}

// Example merges the two shards of a scan into one text report: the
// hosts in target order, each port once, the counts of both shards.
func Example() {
	dir, _ := os.MkdirTemp("", "merge-example")
	defer os.RemoveAll(dir)
	var paths []string
	for i, s := range shards {
		p := filepath.Join(dir, fmt.Sprintf("part%d.jsonl", i))
		os.WriteFile(p, []byte(s), 0o644)
		paths = append(paths, p)
	}

	ctx := context.Background()
	m, err := merge.Open(ctx, paths, merge.Options{Lang: "en"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	w, _ := output.New("text", os.Stdout, output.Options{})
	w.Begin(m.Info())
	summary, err := m.Run(ctx, w)
	w.End(summary)
	fmt.Println(err, m.Info().Fingerprint)
	// Output:
	// Starting portscan 0.1.0 at 2026-12-01 18:00 UTC: connect scan of 3 tcp ports
	//
	// portscan report for 198.18.0.1
	// Host is up (0.00030s latency).
	// Not shown: 1 closed port
	// PORT    STATE SERVICE DESCRIPTION
	// 22/tcp  open  ssh     Secure Shell (SSH) service
	// 443/tcp open  https   Secure Hypertext Transfer Protocol (HTTP)
	//
	// portscan report for 198.18.0.2
	// Host is up (0.00020s latency).
	// Not shown: 2 closed ports
	// PORT   STATE SERVICE DESCRIPTION
	// 22/tcp open  ssh     Secure Shell (SSH) service
	//
	// portscan done: 2 hosts (2 up) scanned in 2.00 s; 3 open ports; 6 probes (3/s)
	// <nil> 88cececa7f0d90a65d21ab1265a550c9
}
