package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// mergeMemLimit is the most memory a merge of 4 files of a million
// records each may take.
const mergeMemLimit = 200 << 20

// TestMergeMemory writes the 4 shard outputs of a /16 scan, host lines
// and port lines, merges them in a child process (the portscan binary)
// and checks its maximum resident set size against 200 MB. The test
// writes 100,000 records a file; bench/merge.sh runs it with a million
// (PORTSCAN_MERGE_RECORDS=1000000), the size the limit is for.
func TestMergeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes 4 large files")
	}
	records, formats := 40_000, []string{"jsonl"}
	if s := os.Getenv("PORTSCAN_MERGE_RECORDS"); s != "" {
		formats = append(formats, "xml")
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PORTSCAN_MERGE_RECORDS=%q: want a number of records a file", s)
		}
		records = n
	}
	bin := binary(t)
	dir := t.TempDir()
	start := time.Now()
	var paths []string
	var size int64
	for k := range 4 {
		p := filepath.Join(dir, fmt.Sprintf("shard%d.jsonl", k+1))
		n, err := writeShard16(p, k, 4, records)
		if err != nil {
			t.Fatal(err)
		}
		size += n
		paths = append(paths, p)
	}
	t.Logf("wrote 4 files of %d records, %.0f MB, in %.1f s", records, float64(size)/1e6, time.Since(start).Seconds())
	for _, format := range formats {
		start = time.Now()
		cmd := exec.Command(bin, append([]string{"merge", "-q", "--format", format, "-o", os.DevNull}, paths...)...)
		peak := measureRSS(t, cmd)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("merge: %v\n%s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage) // GNU time's, its child's included
		rss := peak()
		t.Logf("merge to %s: %.1f s, max RSS %.1f MB (user %.1f s, sys %.1f s)", format, time.Since(start).Seconds(), float64(rss)/1e6,
			time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
		if rss > mergeMemLimit {
			t.Errorf("max RSS %d bytes, over the %d of the limit", rss, mergeMemLimit)
		}
	}
}

// writeShard16 writes shard k of n of a scan of 10.0.0.0/16 as jsonl,
// with about records lines: a line for each of the 65536 hosts (a
// quarter of records, when that is fewer), and port lines, open and
// open|filtered, spread over the hosts (a UDP scan finds many); 64
// hosts in flight at a time, their port lines interleaved. It returns
// the bytes written.
func writeShard16(path string, k, n, records int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	const group = 64
	hosts := min(65536, max(records/4, 1))
	ports := max(records-hosts, 0)
	t0 := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	ts := func(ms int) string { return t0.Add(time.Duration(ms) * time.Millisecond).Format(time.RFC3339Nano) }
	fmt.Fprintf(w, `{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan","-sU","-p-","--seed","7","--shards","%d","--shard-index","%d","10.0.0.0/16"],"start":"%s","scan_type":"udp","protocols":["udp"],"ports":"U:1-65535","num_ports":65535,"seed":7,"fingerprint":"fp-16","shard":{"index":%d,"count":%d}}`+"\n",
		n, k, ts(0), k, n)
	portsOf := func(h int) int { return ports/hosts + b2i(h < ports%hosts) }
	for g := 0; g < hosts; g += group {
		for j := 0; ; j++ {
			more := false
			for h := g; h < g+group; h++ {
				if j >= portsOf(h) {
					continue
				}
				more = true
				state, reason := "open|filtered", "no-response"
				if j%5 == 0 {
					state, reason = "open", "udp-response"
				}
				port := 1 + (j*n+k)*7%65535
				fmt.Fprintf(w, `{"type":"port","host":"10.0.%d.%d","port":%d,"protocol":"udp","state":"%s","reason":"%s","service":"","description":"","description_en":"","service_source":"","rtt_ms":0.05,"time":"%s","source":"scan","shard":%d}`+"\n",
					h>>8, h&255, port, state, reason, ts(h/64+j), k)
			}
			if !more {
				break
			}
		}
		for h := g; h < g+group; h++ {
			np := portsOf(h)
			fmt.Fprintf(w, `{"type":"host","host":"10.0.%d.%d","up":true,"status":"up","reason":"udp-response","latency_ms":0.05,"probes":%d,"silent":0,"counts":{"open":%d,"open|filtered":%d,"closed":%d},"start":"%s","end":"%s","source":"scan","index":%d,"shard":%d}`+"\n",
				h>>8, h&255, np+100, (np+4)/5, np-(np+4)/5, 16384-np, ts(h/64), ts(h/64+np+1), h+1, k)
		}
	}
	fmt.Fprintf(w, `{"type":"summary","start":"%s","end":"%s","elapsed_s":1100,"hosts":%d,"hosts_up":%d,"hosts_down":0,"hosts_unknown":0,"open":0,"probes":%d,"probes_per_s":1,"interrupted":false}`+"\n",
		ts(0), ts(1100000), hosts, hosts, records)
	if err := w.Flush(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
