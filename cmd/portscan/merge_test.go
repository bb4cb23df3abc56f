package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/output"
)

// lanAll is a real run on the LAN lab (bench/lab.sh up lan) that lists
// every port: portscan -q -p 22,23,25,80,110,143,443,3306,8080 --show
// closed,filtered,open|filtered --max-rtt-timeout 300ms --format jsonl
// 198.18.0.1-10.
const lanAll = "testdata/merge/lan-all.jsonl"

// lanIndex is the target index of a host of the LAN run: its place in
// 198.18.0.1-10.
func lanIndex(a netip.Addr) uint64 { return uint64(a.As4()[3]) }

// splitShards splits the jsonl of a single run that lists every port
// into the outputs of n shards of it, as a sharded scan writes them:
// each shard lists (open and open|filtered, the default) and counts the
// ports drawn for it, reports every host with its target index, and
// splits the probes; every file names the scan's fingerprint and its
// shard. It returns the paths of the files written into dir.
func splitShards(t *testing.T, single string, n int, dir string, index func(netip.Addr) uint64) []string {
	t.Helper()
	data, err := os.ReadFile(single)
	if err != nil {
		t.Fatal(err)
	}
	shards := make([]bytes.Buffer, n)
	counts := make([]map[string]map[string]int, n) // by shard, host, state
	for k := range counts {
		counts[k] = map[string]map[string]int{}
	}
	line := func(k int, rec map[string]any) {
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		shards[k].Write(append(b, '\n'))
	}
	split := func(total float64, k int) int { return int(total)/n + b2i(k < int(total)%n) }
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for k := range n {
			var rec map[string]any
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			if err := dec.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			switch rec["type"] {
			case "scan":
				rec["fingerprint"], rec["seed"], rec["shard"] = "fp-lan", 7, map[string]int{"index": k, "count": n}
				line(k, rec)
			case "port":
				h := fnv.New32a()
				fmt.Fprint(h, rec["host"], rec["port"], rec["protocol"])
				if int(h.Sum32()%uint32(n)) != k {
					continue
				}
				host, state := rec["host"].(string), rec["state"].(string)
				if counts[k][host] == nil {
					counts[k][host] = map[string]int{}
				}
				counts[k][host][state]++
				if state == "open" || state == "open|filtered" {
					rec["shard"] = k
					line(k, rec)
				}
			case "host":
				host := rec["host"].(string)
				rec["index"] = index(netip.MustParseAddr(host))
				rec["shard"] = k
				if counts[k][host] == nil {
					counts[k][host] = map[string]int{}
				}
				rec["counts"] = counts[k][host]
				for _, f := range []string{"probes", "silent"} {
					v, _ := rec[f].(json.Number).Float64()
					rec[f] = split(v, k)
				}
				line(k, rec)
			case "summary":
				v, _ := rec["probes"].(json.Number).Float64()
				rec["probes"] = split(v, k)
				open := 0
				for _, c := range counts[k] {
					open += c["open"]
				}
				rec["open"] = open
				line(k, rec)
			}
		}
	}
	var paths []string
	for k := range n {
		p := filepath.Join(dir, fmt.Sprintf("shard%d.jsonl", k+1))
		if err := os.WriteFile(p, shards[k].Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withIndex is the single run as a run of the same scan with the
// default --show writes it: its target indexes and fingerprint, and
// only its open and open|filtered ports listed (the others counted).
func withIndex(t *testing.T, single, dir string, index func(netip.Addr) uint64) string {
	t.Helper()
	data, err := os.ReadFile(single)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for l := range bytes.Lines(data) {
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		switch rec["type"] {
		case "scan":
			rec["fingerprint"], rec["seed"] = "fp-lan", 7
		case "host":
			rec["index"] = index(netip.MustParseAddr(rec["host"].(string)))
		case "port":
			if st := rec["state"]; st != "open" && st != "open|filtered" {
				continue
			}
		}
		b, _ := json.Marshal(rec)
		out.Write(append(b, '\n'))
	}
	p := filepath.Join(dir, "single.jsonl")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mergeCLI runs portscan merge and fails the test unless it succeeds
// quietly.
func mergeCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runCLI(t, append([]string{"merge"}, args...)...)
	if code != 0 || errs != "" {
		t.Fatalf("merge %q: exit %d, stderr %q", args, code, errs)
	}
	return out
}

// TestMergeCLIShards merges 4 shards of a real LAN run into every
// format: each the same as the merge of the whole run, and each read by
// what reads that format: baseline (jsonl, json, xml), xmllint against
// nmap's DTD, encoding/csv, grepable's layout.
func TestMergeCLIShards(t *testing.T) {
	dir := t.TempDir()
	single := withIndex(t, lanAll, dir, lanIndex)
	shards := splitShards(t, lanAll, 4, dir, lanIndex)
	slices.Reverse(shards)
	for _, format := range output.Formats() {
		t.Run(format, func(t *testing.T) {
			got, want := filepath.Join(dir, "merged."+format), filepath.Join(dir, "run."+format)
			mergeCLI(t, append([]string{"--format", format, "-o", got}, shards...)...)
			mergeCLI(t, "--format", format, "-o", want, single)
			a, _ := os.ReadFile(got)
			b, _ := os.ReadFile(want)
			if !bytes.Equal(a, b) {
				t.Errorf("the merged shards differ from the run:\n--- merged\n%s\n--- run\n%s", a, b)
			}
			checkFormat(t, format, got)
		})
	}
	out := mergeCLI(t, append([]string{"--reason", "--show", "down"}, shards...)...)
	golden(t, "testdata/merge/lan-shards.txt", out)
}

// checkFormat checks that the report at path reads as its format.
func checkFormat(t *testing.T, format, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch format {
	case "jsonl", "json", "xml":
		run, err := baseline.ReadFile(path, baseline.ReadOptions{})
		if err != nil {
			t.Fatalf("baseline reads %s: %v", format, err)
		}
		if len(run.Hosts()) == 0 {
			t.Errorf("%s: no host read back", format)
		}
		if format != "xml" {
			return
		}
		xmllint, err := exec.LookPath("xmllint")
		if err != nil {
			t.Skip("xmllint not installed (Debian package libxml2-utils)")
		}
		if _, err := os.Stat("/usr/share/nmap/nmap.dtd"); err != nil {
			t.Skip("/usr/share/nmap/nmap.dtd not found (Debian package nmap)")
		}
		if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", "/usr/share/nmap/nmap.dtd", path).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) < 2 || !slices.Equal(rows[0], output.CSVHeader) {
			t.Errorf("csv: %d rows, %v", len(rows), err)
		}
	case "grepable":
		for l := range strings.Lines(string(data)) {
			if !strings.HasPrefix(l, "# portscan") && !strings.HasPrefix(l, "Host: ") {
				t.Errorf("grepable line %q", l)
			}
		}
	case "text":
		if !strings.Contains(string(data), "portscan report for 198.18.0.1\n") {
			t.Errorf("text:\n%s", data)
		}
	}
}

// TestMergeCLIReadBack: audit --from and diff take the merged report as
// they take the run itself.
func TestMergeCLIReadBack(t *testing.T) {
	dir := t.TempDir()
	shards := splitShards(t, lanAll, 3, dir, lanIndex)
	merged := filepath.Join(dir, "merged.jsonl")
	mergeCLI(t, append([]string{"--format", "jsonl", "-o", merged}, shards...)...)
	mergedXML := filepath.Join(dir, "merged.xml")
	mergeCLI(t, append([]string{"--format", "xml", "-o", mergedXML}, shards...)...)

	for _, pair := range [][2]string{{lanAll, merged}, {merged, lanAll}, {mergedXML, merged}} {
		out, errs, code := runCLI(t, "diff", pair[0], pair[1])
		if code != 0 || errs != "" || out != "Differences from "+pair[0]+" to "+pair[1]+":\n  none\nNo differences.\n" {
			t.Errorf("diff %s %s: exit %d, stderr %q, stdout %q", pair[0], pair[1], code, errs, out)
		}
	}
	policy := writeFile(t, dir, "policy.yaml", labGroups)
	want, _, wantCode := runCLI(t, "audit", "-q", "--policy", policy, "--from", lanAll)
	for _, from := range []string{merged, mergedXML} {
		got, errs, code := runCLI(t, "audit", "-q", "--policy", policy, "--from", from)
		if code != wantCode || strings.ReplaceAll(got, from, lanAll) != want {
			t.Errorf("audit --from %s: exit %d (want %d), stderr %q:\n%s\nwant:\n%s", from, code, wantCode, errs, got, want)
		}
	}
	if wantCode != 0 || !strings.Contains(want, "PASS") {
		t.Errorf("the audit of the run itself: exit %d\n%s", wantCode, want)
	}
}

// TestMergeCLIRefused: what merge refuses, each with one line and exit
// status 2, creating nothing.
func TestMergeCLIRefused(t *testing.T) {
	dir := t.TempDir()
	shards := splitShards(t, lanAll, 2, dir, lanIndex)
	other := filepath.Join(dir, "other.jsonl")
	b, _ := os.ReadFile(shards[1])
	os.WriteFile(other, bytes.ReplaceAll(b, []byte(`"fp-lan"`), []byte(`"fp-other"`)), 0o644)
	notes := writeFile(t, dir, "notes.txt", "hosts to scan:\n198.18.0.1\n")
	out := filepath.Join(dir, "out.jsonl")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"different scans", []string{shards[0], other},
			shards[0] + " and " + other + " are not parts of one scan: fingerprint fp-lan and fingerprint fp-other; --force merges them anyway"},
		{"nmap's XML beside a shard", []string{shards[0], "../../baseline/testdata/nmap.xml"},
			shards[0] + " and ../../baseline/testdata/nmap.xml are not parts of one scan: the first has fingerprint fp-lan, the second none (nmap's XML, or older output); --force merges them anyway"},
		{"not a result file", []string{shards[0], notes}, notes + ":1:1: unexpected 'h'; expected portscan jsonl, json or XML, or nmap XML"},
		{"a capture", []string{"../../testdata/pcaps/lab-lo.pcap"},
			"../../testdata/pcaps/lab-lo.pcap: a packet capture, not a result file: merge joins the outputs of scans; read captures with portscan pcap"},
		{"standard input", []string{"-"}, "-: standard input cannot be merged: merge reads each file twice; save it to a file first"},
		{"missing", []string{filepath.Join(dir, "nonesuch")}, "open " + filepath.Join(dir, "nonesuch") + ": no such file or directory"},
		{"no files", nil, "merge: give the result files to merge"},
		{"output over an input", []string{"-o", shards[1], shards[0], shards[1]}, "--output would overwrite input " + shards[1]},
		{"bad format", []string{"--format", "yaml", shards[0]}, `unknown output format "yaml": want one of text, jsonl, json, csv, xml, grepable, html`},
		{"bad show", []string{"--show", "opne", shards[0]}, `invalid --show state "opne": want open, closed, filtered, open|filtered or down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !slices.Contains(args, "-o") {
				args = append([]string{"-o", out}, args...)
			}
			before, _ := os.ReadFile(shards[1])
			stdout, errs, code := runCLI(t, append([]string{"merge"}, args...)...)
			if code != exitUsage || errs != "portscan: "+tt.want+"\n" || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr\n%q\nwant\n%q", code, stdout, errs, "portscan: "+tt.want+"\n")
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
				os.Remove(out)
			}
			if after, _ := os.ReadFile(shards[1]); !bytes.Equal(before, after) {
				t.Errorf("an input changed")
			}
		})
	}
}

// TestMergeCLIForce: --force merges files of different scans, saying so
// on stderr (not with -q); a missing shard is noted.
func TestMergeCLIForce(t *testing.T) {
	dir := t.TempDir()
	shards := splitShards(t, lanAll, 3, dir, lanIndex)
	out, errs, code := runCLI(t, "merge", "--force", "--format", "jsonl", shards[0], "../../baseline/testdata/nmap.xml")
	if code != 0 || errs != "portscan: merge: files of different scans merged (--force): the report has no fingerprint\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if strings.Contains(out, "fingerprint") || !strings.Contains(out, `"host":"198.18.0.1"`) {
		t.Errorf("report:\n%s", out)
	}
	_, errs, code = runCLI(t, "merge", shards[0], shards[2])
	if code != 0 || errs != "portscan: merge: 1 shard is missing (2/3): the report covers 2 of the 3 shards of the scan\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, errs, _ = runCLI(t, "merge", "-q", shards[0], shards[2]); errs != "" {
		t.Errorf("with -q, stderr %q", errs)
	}
}
