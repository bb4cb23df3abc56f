package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabShards scans the LAN lab (live, dropping and unassigned
// hosts; TCP and UDP) once whole and once as 4 shards, 4 processes of
// the built binary at once, each writing jsonl: the shards' ports are
// disjoint and together in exactly the states of the whole scan, a
// host up in the whole scan is up in a shard (and one down in none),
// and every part carries the whole scan's fingerprint.
func TestLabShards(t *testing.T) {
	lab.Require(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "portscan")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l := lab.NewLAN(t)
	// Long timeouts: every state here is an answer or its absence, and
	// must not depend on how busy the machine is when a reply comes.
	args := []string{"-q", "--format", "jsonl", "--seed", "20261201", "-sT", "-sU", "-p", "T:1-1024,3306,8080,U:53,161,500",
		"--min-rtt-timeout", "1s", "--max-rtt-timeout", "2s",
		"--show", "closed,filtered,open|filtered", "--exclude", "198.18.0.0,198.18.0.30-40", "198.18.0.0/26"}
	scan := func(name string, extra ...string) map[string][]map[string]any {
		t.Helper()
		path := filepath.Join(dir, name+".jsonl")
		cmd := l.Scanner.Command(bin, append(append(append([]string{}, args...), extra...), "-o", path)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v: %s", name, err, stderr.String())
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return jsonlRecords(t, string(data))
	}
	whole := scan("whole")
	parts := make([]map[string][]map[string]any, 4)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { parts[k] = scan(fmt.Sprintf("shard-%d", k), "--shards", "4", "--shard-index", fmt.Sprint(k)) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	key := func(p map[string]any) string { return fmt.Sprintf("%s %v/%s", p["host"], p["port"], p["protocol"]) }
	want := map[string]any{}
	for _, p := range whole["port"] {
		want[key(p)] = p["state"]
	}
	fingerprint := whole["scan"][0]["fingerprint"]
	wholeHosts := map[string]map[string]any{}
	for _, h := range whole["host"] {
		wholeHosts[h["host"].(string)] = h
	}
	got := map[string]any{}
	up := map[string]bool{}
	for k, part := range parts {
		sc := part["scan"][0]
		if sc["fingerprint"] != fingerprint || fmt.Sprint(sc["shard"]) != fmt.Sprintf("map[count:4 index:%d]", k) {
			t.Errorf("shard %d: scan line %v; the whole scan's fingerprint %v", k, sc, fingerprint)
		}
		for _, p := range part["port"] {
			if _, dup := got[key(p)]; dup {
				t.Errorf("shard %d: %s is in another shard too", k, key(p))
			}
			got[key(p)] = p["state"]
		}
		for _, h := range part["host"] {
			addr := h["host"].(string)
			w := wholeHosts[addr]
			if w == nil || w["index"] != h["index"] {
				t.Errorf("shard %d: host %s index %v; whole scan: %v", k, addr, h["index"], w)
			}
			if h["up"] == true {
				up[addr] = true
			}
		}
	}
	var diff []string
	for k, s := range want {
		if got[k] != s {
			diff = append(diff, fmt.Sprintf("%s: whole %v, shards %v", k, s, got[k]))
		}
	}
	for k, s := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: only in the shards, %v", k, s))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%d of %d ports differ:\n%s", len(diff), len(want), strings.Join(diff, "\n"))
	}
	upWhole := 0
	for addr, h := range wholeHosts {
		if isUp := h["up"] == true; isUp != up[addr] {
			t.Errorf("%s: up %v in the whole scan, in a shard %v", addr, isUp, up[addr])
		}
		if h["up"] == true {
			upWhole++
		}
	}
	// 5 live hosts and 3 that drop everything but answer ARP (raw
	// discovery, which runs as root), 1029 ports each.
	if upWhole != 8 || len(want) != 8*1029 {
		t.Errorf("whole scan: %d hosts up, %d ports; want 8 and %d", upWhole, len(want), 8*1029)
	}
}
