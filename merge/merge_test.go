package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// TestShardsEqualSingle merges the shards of a model scan, in several
// shapes and input formats, and compares the report, in every output
// format, with the merge of the single run: byte for byte.
func TestShardsEqualSingle(t *testing.T) {
	m := newModel(60)
	dir := t.TempDir()
	single := m.write(t, filepath.Join(dir, "single.jsonl"), "jsonl", output.Options{}, rand.New(rand.NewPCG(9, 9)))
	for _, tc := range []struct {
		n       int
		formats []string
	}{
		{2, []string{"jsonl"}},
		{3, []string{"json"}},
		{4, []string{"jsonl"}},
		{4, []string{"jsonl", "json"}},
		{7, []string{"json", "jsonl"}},
	} {
		t.Run(fmt.Sprintf("%d shards %s", tc.n, strings.Join(tc.formats, "+")), func(t *testing.T) {
			sub := t.TempDir()
			shards := m.writeShards(t, sub, tc.n, tc.formats...)
			slices.Reverse(shards) // the order of the files is not the order of the report
			for _, format := range output.Formats() {
				want, _ := mergeTo(t, format, output.Options{}, Options{}, single)
				got, mg := mergeTo(t, format, output.Options{}, Options{}, shards...)
				if !bytes.Equal(got, want) {
					t.Errorf("%s: the merged shards differ from the single run:\n--- merged\n%s\n--- single\n%s", format, got, want)
				}
				if len(mg.Notes()) != 0 {
					t.Errorf("notes %q", mg.Notes())
				}
			}
		})
	}
}

// TestMergeSingleKeepsRun merges a single run: each host once, in
// target order, with its counts, listed ports and probes; the run's
// fingerprint and seed kept.
func TestMergeSingleKeepsRun(t *testing.T) {
	m := newModel(30)
	path := m.write(t, filepath.Join(t.TempDir(), "single.jsonl"), "jsonl", output.Options{}, rand.New(rand.NewPCG(1, 2)))
	out, mg := mergeTo(t, "jsonl", output.Options{}, Options{}, path)
	if info := mg.Info(); info.Fingerprint != "fp-model" || info.Seed != 7 || info.Shard.Sharded() {
		t.Errorf("info fingerprint %q seed %d shard %v", info.Fingerprint, info.Seed, info.Shard)
	}
	lines := jsonlRecords(t, out)
	var hosts []output.HostRecord
	for _, l := range lines {
		if l.typ == "host" {
			var h output.HostRecord
			json.Unmarshal(l.raw, &h)
			hosts = append(hosts, h)
		}
		if l.typ == "summary" {
			var s output.SummaryRecord
			json.Unmarshal(l.raw, &s)
			if s.Probes != m.sum.Probes || s.Open != m.sum.Open || s.HostsUp != m.sum.HostsUp || s.HostsDown != m.sum.HostsDown ||
				!s.Start.Equal(m.sum.Start) || !s.End.Equal(m.sum.End) || s.Interrupted {
				t.Errorf("summary %+v, want %+v", s, m.sum)
			}
		}
	}
	if len(hosts) != len(m.hosts) {
		t.Fatalf("%d hosts, want %d", len(hosts), len(m.hosts))
	}
	for i, h := range hosts {
		want := m.hosts[i].host
		if h.Index != uint64(i+1) || h.Host != want.Addr.String() || h.Probes != want.Probes || h.Up != want.Up {
			t.Errorf("host %d: %+v, want %+v", i, h, want)
		}
		for s, n := range want.Counts {
			if h.Counts[s.String()] != n {
				t.Errorf("host %d: counts %v, want %v", i, h.Counts, want.Counts)
			}
		}
	}
	d := baseline.Compare(readRun(t, path), readRun(t, writeTemp(t, out)), baseline.CompareOptions{Labels: true})
	if !d.Empty() {
		t.Errorf("the merge differs from the run: %v", d.Changes)
	}
}

// TestMergeXMLShards merges shards written as XML, which has no target
// index: hosts come by address, and the run is the single one's.
func TestMergeXMLShards(t *testing.T) {
	m := newModel(40)
	dir := t.TempDir()
	single := m.write(t, filepath.Join(dir, "single.jsonl"), "jsonl", output.Options{}, nil)
	shards := m.writeShards(t, dir, 3, "xml", "jsonl", "xml")
	out, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, shards...)
	d := baseline.Compare(readRun(t, single), readRun(t, writeTemp(t, out)), baseline.CompareOptions{Labels: true})
	if !d.Empty() {
		t.Errorf("the merged shards differ from the single run: %v", d.Changes)
	}
	want, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, single)
	if a, b := hostOrder(t, out), hostOrder(t, want); !slices.Equal(a, b) {
		t.Errorf("hosts %v, want %v", a, b)
	}
}

type record struct {
	typ string
	raw []byte
}

func jsonlRecords(t testing.TB, b []byte) []record {
	t.Helper()
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		out = append(out, record{r.Type, bytes.Clone(sc.Bytes())})
	}
	return out
}

func hostOrder(t testing.TB, jsonl []byte) []string {
	var out []string
	for _, r := range jsonlRecords(t, jsonl) {
		if r.typ == "host" {
			var h output.HostRecord
			json.Unmarshal(r.raw, &h)
			out = append(out, h.Host)
		}
	}
	return out
}

func writeTemp(t testing.TB, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "merged-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(b)
	return f.Name()
}

func readRun(t testing.TB, path string) *baseline.Run {
	t.Helper()
	r, err := baseline.ReadFile(path, baseline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// appendRun appends a run of m to path, as a resumed run appends to
// its jsonl output.
func appendRun(t testing.TB, path string, emit func(w result.Sink)) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := output.New("jsonl", f, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emit(w)
}

// TestMergeResumed merges a shard's jsonl file that holds a run stopped
// with Ctrl-C (its hosts in flight written incomplete), or killed (port
// lines whose host line never came, and no summary), then the resumed
// run appended to it: each host once, whole, as the single run has it.
func TestMergeResumed(t *testing.T) {
	m := newModel(12)
	for _, how := range []string{"interrupted", "killed"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			sh := m.shard(1, 2)
			path := filepath.Join(dir, "shard2.jsonl")
			// The first run: hosts 0-4 done, 5 and 6 in flight.
			appendRun(t, path, func(w result.Sink) {
				w.Begin(sh.info)
				for i := range 5 {
					for _, p := range sh.hosts[i].ports {
						w.Port(p)
					}
					w.Host(sh.hosts[i].host)
				}
				for _, i := range []int{5, 6} {
					ps := sh.hosts[i].ports
					for _, p := range ps[:len(ps)/2] {
						w.Port(p)
					}
				}
				if how == "interrupted" {
					w.End(result.Summary{Start: sh.sum.Start, End: at(100), Probes: 40, Interrupted: true})
				}
			})
			// The resumed run: 5 and 6 again, and the rest.
			appendRun(t, path, func(w result.Sink) {
				w.Begin(sh.info)
				for i := 5; i < len(sh.hosts); i++ {
					for _, p := range sh.hosts[i].ports {
						w.Port(p)
					}
					w.Host(sh.hosts[i].host)
				}
				w.End(result.Summary{Start: at(200), End: sh.sum.End, Probes: 60})
			})
			other := m.shard(0, 2).write(t, filepath.Join(dir, "shard1.jsonl"), "jsonl", output.Options{}, nil)
			single := m.write(t, filepath.Join(dir, "single.jsonl"), "jsonl", output.Options{}, nil)

			got, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, other, path)
			want, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, single)
			gl, wl := jsonlRecords(t, got), jsonlRecords(t, want)
			if len(gl) != len(wl) {
				t.Fatalf("%d records, want %d:\n%s", len(gl), len(wl), got)
			}
			for i := range gl {
				if gl[i].typ == "scan" || gl[i].typ == "summary" {
					continue // probes and times differ: another run
				}
				a, b := stripHost(t, gl[i]), stripHost(t, wl[i])
				if a != b {
					t.Errorf("record %d:\n%s\nwant\n%s", i, a, b)
				}
			}
			var sum output.SummaryRecord
			json.Unmarshal(gl[len(gl)-1].raw, &sum)
			if sum.Interrupted || sum.Hosts != len(m.hosts) || sum.HostsUnknown != 0 {
				t.Errorf("summary %s", gl[len(gl)-1].raw)
			}
		})
	}
}

// stripHost drops what a resumed run changes from a host line: its
// probes and times (it probed again what was in flight).
func stripHost(t testing.TB, r record) string {
	var m map[string]any
	json.Unmarshal(r.raw, &m)
	if r.typ == "host" {
		delete(m, "probes")
		delete(m, "silent")
		delete(m, "start")
		delete(m, "end")
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestMergeTargetOrder: hosts by target index, whatever the order of
// addresses and files; hosts without one (an XML file's) after them by
// address, IPv4 first, but for a host another file gives an index.
func TestMergeTargetOrder(t *testing.T) {
	dir := t.TempDir()
	info := result.Info{Args: []string{"portscan"}, Start: t0, ScanType: "connect", Version: "0.1.0"}
	host := func(a string, index uint64) result.Host {
		return result.Host{Addr: mustAddr(a), Index: index, Up: true, Reason: "syn-ack", Start: at(1), End: at(2)}
	}
	write := func(name, format string, hosts ...result.Host) string {
		path := filepath.Join(dir, name)
		f, _ := os.Create(path)
		defer f.Close()
		w, _ := output.New(format, f, output.Options{})
		w.Begin(info)
		for _, h := range hosts {
			w.Host(h)
		}
		w.End(result.Summary{Start: t0, End: at(3)})
		return path
	}
	a := write("a.jsonl", "jsonl", host("10.0.0.9", 1), host("10.0.0.1", 3), host("10.0.0.5", 5))
	b := write("b.json", "json", host("10.0.0.2", 4), host("10.0.0.7", 2))
	c := write("c.xml", "xml", host("::1", 0), host("10.0.0.3", 0), host("10.0.0.1", 0))
	out, _ := mergeTo(t, "jsonl", output.Options{}, Options{}, c, b, a)
	want := []string{"10.0.0.9", "10.0.0.7", "10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.0.3", "::1"}
	if got := hostOrder(t, out); !slices.Equal(got, want) {
		t.Errorf("hosts %v, want %v", got, want)
	}
}

// TestMergeFingerprints: files of other scans are refused, naming both
// files and fingerprints, unless Force; files that all lack one merge.
func TestMergeFingerprints(t *testing.T) {
	m := newModel(5)
	dir := t.TempDir()
	shards := m.writeShards(t, dir, 4, "jsonl")
	other := m
	other.info.Fingerprint = "fp-other"
	otherPath := other.shard(1, 4).write(t, filepath.Join(dir, "other.jsonl"), "jsonl", output.Options{}, nil)
	none := m
	none.info.Fingerprint, none.info.Seed = "", 0
	nonePath := none.write(t, filepath.Join(dir, "none.xml"), "xml", output.Options{}, nil)
	none2 := none.write(t, filepath.Join(dir, "none2.jsonl"), "jsonl", output.Options{}, nil)
	three := m.shard(0, 3).write(t, filepath.Join(dir, "three.jsonl"), "jsonl", output.Options{}, nil)
	whole := m.write(t, filepath.Join(dir, "whole.jsonl"), "jsonl", output.Options{}, nil)
	again := m.shard(1, 4).write(t, filepath.Join(dir, "again.json"), "json", output.Options{}, nil)

	tests := []struct {
		name  string
		paths []string
		want  string // the error; "" none
		notes []string
	}{
		{"one scan", shards, "", nil},
		{"one shard twice", []string{shards[0], again, shards[1], shards[2], shards[3]}, "", nil},
		{"a shard missing", shards[:3], "", []string{"1 shard is missing (4/4): the report covers 3 of the 4 shards of the scan"}},
		{"other fingerprint", []string{shards[0], otherPath},
			shards[0] + " and " + otherPath + " are not parts of one scan: fingerprint fp-model and fingerprint fp-other; --force merges them anyway", nil},
		{"none beside one", []string{shards[0], nonePath},
			shards[0] + " and " + nonePath + " are not parts of one scan: the first has fingerprint fp-model, the second none (nmap's XML, or older output); --force merges them anyway", nil},
		{"one beside none", []string{nonePath, shards[0]},
			nonePath + " and " + shards[0] + " are not parts of one scan: the first has no fingerprint (nmap's XML, or older output), the second fingerprint fp-model; --force merges them anyway", nil},
		{"all without", []string{nonePath, none2}, "", nil},
		{"another split", []string{shards[0], three},
			shards[0] + " and " + three + " are not parts of one scan: shard 1/4 and shard 1/3 of one scan, of different splits; --force merges them anyway", nil},
		{"the whole beside a shard", []string{whole, shards[1]},
			whole + " and " + shards[1] + " are not parts of one scan: the whole scan and shard 2/4 of one scan, of different splits; --force merges them anyway", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mg, err := Open(context.Background(), tt.paths, Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer mg.Close()
				if !slices.Equal(mg.Notes(), tt.notes) {
					t.Errorf("notes %q, want %q", mg.Notes(), tt.notes)
				}
				return
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrMismatch) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			mg, err = Open(context.Background(), tt.paths, Options{Force: true})
			if err != nil {
				t.Fatalf("with Force: %v", err)
			}
			defer mg.Close()
			info := mg.Info()
			if strings.Contains(tt.name, "split") || strings.Contains(tt.name, "whole") {
				if info.Fingerprint != "fp-model" {
					t.Errorf("fingerprint %q", info.Fingerprint)
				}
				return
			}
			if info.Fingerprint != "" || info.Seed != 0 || !slices.ContainsFunc(mg.Notes(), func(n string) bool { return strings.Contains(n, "different scans") }) {
				t.Errorf("forced merge of different scans: fingerprint %q seed %d notes %q", info.Fingerprint, info.Seed, mg.Notes())
			}
		})
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
