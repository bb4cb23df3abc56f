package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestShardUsage checks the shard flags' usage errors: one line, exit
// status 2, nothing created.
func TestShardUsage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.jsonl")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "2/4", "--shards", "4", "--seed", "1"}, "--shard and --shards cannot be used together"},
		{[]string{"--shard", "2/4", "--shard-index", "1", "--seed", "1"}, "--shard and --shard-index cannot be used together: --shard I/N counts from 1, --shards N --shard-index K from 0"},
		{[]string{"--shards", "4", "--seed", "1"}, "--shards 4 needs --shard-index (0 to 3)"},
		{[]string{"--shards", "4", "--shard-index", "1"}, "--shards 4 needs --seed: every shard must use the same permutation"},
		{[]string{"--shards", "4", "--shard-index", "1", "--seed", "0"}, "--shards 4 needs a --seed other than 0 (0 picks a random one): every shard must use the same permutation"},
		{[]string{"--shard", "2/4"}, "--shard 2/4 needs --seed: every shard must use the same permutation"},
		{[]string{"--shard-index", "2", "--seed", "1"}, "--shard-index 2 needs --shards N, the number of shards"},
		{[]string{"--shards", "4", "--shard-index", "4", "--seed", "1"}, "invalid --shard-index 4: --shards 4 takes 0 to 3"},
		{[]string{"--shard", "5/4", "--seed", "1"}, `invalid argument "5/4" for "--shard" flag: invalid shard 5/4: index must be 1 to 4`},
		{[]string{"--shard", "1/0", "--seed", "1"}, `invalid argument "1/0" for "--shard" flag: invalid shard 1/0: count must be 1 or more`},
		{[]string{"--shard", "two", "--seed", "1"}, `invalid argument "two" for "--shard" flag: invalid shard "two": want I/N, such as 2/4 (I from 1 to N)`},
		{[]string{"--shards", "0x4", "--shard-index", "0", "--seed", "1"}, `invalid argument "0x4" for "--shards" flag: invalid shard count "0x4": want a number of shards, 1 or more`},
		{[]string{"--shards", "4", "--shard-index", "-1", "--seed", "1"}, `invalid argument "-1" for "--shard-index" flag: invalid shard index "-1": want a number, 0 or more`},
		{[]string{"--shards", "4", "--shard-index", "$(JOB_COMPLETION_INDEX)", "--seed", "1"}, `invalid argument "$(JOB_COMPLETION_INDEX)" for "--shard-index" flag: invalid shard index "$(JOB_COMPLETION_INDEX)": want a number, 0 or more`},
		{[]string{"--shards", "2", "--shard-index", "0", "--seed", "1", "-p-", "::/32"}, "too many probes to shard: 2^64 hosts or more"},
		{[]string{"--shards", "2", "--shard-index", "0", "--seed", "1", "-p-", "::/72"}, "too many probes to shard: 72057594037927937 hosts × 65535 ports is more than 2^62 probes"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string{"-q", "-o", out}, tc.args...), "127.0.0.1")
			stdout, stderr, code := runCLI(t, args...)
			if code != 2 || stdout != "" || stderr != "portscan: "+tc.want+"\n" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
				os.Remove(out)
			}
		})
	}
	t.Run("audit", func(t *testing.T) {
		_, stderr, code := runCLI(t, "audit", "--policy", "p.yaml", "--shards", "2", "--shard-index", "0", "--seed", "1")
		if want := "portscan: audit judges whole hosts, not a shard's share of their ports: scan the shards, merge their outputs, and audit --from the merged file\n"; code != 2 || stderr != want {
			t.Errorf("exit %d, stderr %q; want 2, %q", code, stderr, want)
		}
	})
}

// shardScanLine runs a scan of closed loopback ports and returns its jsonl
// scan record.
func shardScanLine(t *testing.T, args ...string) map[string]any {
	t.Helper()
	base := []string{"-q", "--format", "jsonl", "--retries", "0", "--max-rtt-timeout", "500ms"}
	out, stderr, code := runCLI(t, append(base, args...)...)
	if code != 0 {
		t.Fatalf("portscan %q: exit %d: %s", args, code, stderr)
	}
	return jsonlRecords(t, out)["scan"][0]
}

// TestFingerprint checks that a scan's fingerprint names its
// definition: the same whatever the order of the flags, the shard, the
// timing or the outputs; another for another target, exclusion, port,
// protocol or seed.
func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list")
	if err := os.WriteFile(list, []byte("# the same two targets\n127.0.0.2\n\n127.0.0.3   # again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	excl := filepath.Join(dir, "excl")
	if err := os.WriteFile(excl, []byte("127.0.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}
	want := shardScanLine(t, base...)["fingerprint"].(string)
	if len(want) != 32 || strings.Trim(want, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q, want 32 hex digits", want)
	}
	for _, tc := range []struct {
		name string
		args []string
		same bool
	}{
		{"flags reordered", []string{"127.0.0.2", "--exclude", "127.0.0.8", "--seed", "5", "127.0.0.3", "-p", "3,1"}, true},
		{"ports written otherwise", []string{"-p", "3,1-1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2,127.0.0.3"}, true},
		{"-iL", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "-iL", list}, true},
		{"a shard of it", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "--shards", "3", "--shard-index", "2", "127.0.0.2", "127.0.0.3"}, true},
		{"--shard of it", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "--shard", "1/2", "127.0.0.2", "127.0.0.3"}, true},
		{"timing and outputs", []string{"-T3", "--rate", "1000", "--open", "-oX", filepath.Join(dir, "x.xml"), "-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}, true},
		{"a port more", []string{"-p", "1-3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}, false},
		{"udp", []string{"-sU", "-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}, false},
		{"a target changed", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.4"}, false},
		{"targets reordered", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.3", "127.0.0.2"}, false},
		{"an exclusion changed", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.7", "127.0.0.2", "127.0.0.3"}, false},
		{"an exclusion more", []string{"-p", "1,3", "--seed", "5", "--exclude", "127.0.0.8", "--exclude-file", excl, "127.0.0.2", "127.0.0.3"}, false},
		{"another seed", []string{"-p", "1,3", "--seed", "6", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}, false},
		{"no seed", []string{"-p", "1,3", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shardScanLine(t, tc.args...)["fingerprint"]
			if (got == want) != tc.same {
				t.Errorf("fingerprint %v, the first scan's %v; want the same: %v", got, want, tc.same)
			}
		})
	}
	sn := shardScanLine(t, "-sn", "--seed", "5", "--exclude", "127.0.0.8", "127.0.0.2", "127.0.0.3")["fingerprint"]
	if sn == want || sn == "" {
		t.Errorf("-sn fingerprint %v; want one of its own", sn)
	}
}

// TestShardsCLI runs a scan of loopback listeners whole and in three
// shards: the shards' port lines, each carrying its shard, are the
// whole scan's; host lines carry their index; --shards 1 is the whole
// scan.
func TestShardsCLI(t *testing.T) {
	var spec []string
	for _, a := range []string{"127.0.0.1", "127.0.0.3"} {
		l, err := net.Listen("tcp", a+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		spec = append(spec, fmt.Sprint(l.Addr().(*net.TCPAddr).Port))
	}
	common := []string{"-q", "--format", "jsonl", "--show", "closed,filtered", "--seed", "11", "-p", "1-40," + strings.Join(spec, ","), "127.0.0.1-4"}
	ports := func(args ...string) (lines []string, hosts map[string]float64, shard any) {
		t.Helper()
		out, stderr, code := runCLI(t, append(common, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs := jsonlRecords(t, out)
		hosts = map[string]float64{}
		index := "<nil>" // of the shard, as its records give it
		if m, ok := recs["scan"][0]["shard"].(map[string]any); ok {
			index = fmt.Sprint(m["index"])
		}
		for _, h := range recs["host"] {
			hosts[h["host"].(string)] = h["index"].(float64)
			if fmt.Sprint(h["shard"]) != index {
				t.Errorf("host line %v in shard %s", h, index)
			}
		}
		for _, p := range recs["port"] {
			if fmt.Sprint(p["shard"]) != index {
				t.Errorf("port line %v in shard %s", p, index)
			}
			lines = append(lines, fmt.Sprintf("%s:%v/%s %s", p["host"], p["port"], p["protocol"], p["state"]))
		}
		return lines, hosts, recs["scan"][0]["shard"]
	}
	// The whole scan, without the shard fields.
	out, _, code := runCLI(t, common...)
	if code != 0 {
		t.Fatal(out)
	}
	whole := jsonlRecords(t, out)
	var want []string
	wantIndex := map[string]float64{}
	for _, p := range whole["port"] {
		if _, ok := p["shard"]; ok {
			t.Fatalf("port line %v of a whole scan has a shard", p)
		}
		want = append(want, fmt.Sprintf("%s:%v/%s %s", p["host"], p["port"], p["protocol"], p["state"]))
	}
	for _, h := range whole["host"] {
		wantIndex[h["host"].(string)] = h["index"].(float64)
	}
	if _, ok := whole["scan"][0]["shard"]; ok || len(want) != 4*(40+len(spec)) {
		t.Fatalf("whole scan: scan line %v, %d port lines", whole["scan"][0], len(want))
	}
	var got []string
	for k := range 3 {
		lines, hosts, sh := ports("--shards", "3", "--shard-index", fmt.Sprint(k))
		if fmt.Sprint(sh) != fmt.Sprintf("map[count:3 index:%d]", k) {
			t.Errorf("shard %d: scan line's shard %v", k, sh)
		}
		for h, i := range hosts {
			if wantIndex[h] != i {
				t.Errorf("shard %d: %s index %v, whole scan's %v", k, h, i, wantIndex[h])
			}
		}
		got = append(got, lines...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the shards' ports:\n%s\nthe whole scan's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Text names the shard in its header.
	text, _, _ := runCLI(t, "-q", "--seed", "11", "-p", "1-40", "--shard", "2/3", "127.0.0.1")
	if head, _, _ := strings.Cut(text, "\n"); !strings.HasSuffix(head, ": connect scan of 40 tcp ports, shard 2/3") {
		t.Errorf("header %q", head)
	}
	// --shards 1 is the whole scan: the same lines, no shard fields.
	one, _, sh := ports("--shards", "1")
	sort.Strings(one)
	if sh != nil || strings.Join(one, "\n") != strings.Join(want, "\n") {
		t.Errorf("--shards 1: shard %v, ports differ from the whole scan's", sh)
	}
}
