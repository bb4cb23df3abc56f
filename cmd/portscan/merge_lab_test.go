package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/resume"
)

type mergeLabData struct{ Dir, Step string }

// lanArgs scan the LAN lab's services and a few closed ports, listing
// every port.
var lanArgs = []string{"-q", "-p", "22,23,25,80,110,143,443,3306,8080", "--max-rtt-timeout", "300ms"}

// TestMergeLab scans the LAN lab once, listing every port, splits the
// run into 4 shards and merges them: the report, in every format, is
// the run's. A second scan takes the merged report as its --baseline
// and finds no difference.
func TestMergeLab(t *testing.T) {
	if lab.InChild() {
		var d mergeLabData
		lab.ChildData(t, &d)
		t.Run(d.Step, func(t *testing.T) {
			var args []string
			switch d.Step {
			case "run":
				args = append(lanArgs, "--show", "closed,filtered,open|filtered", "--format", "jsonl", "-o", filepath.Join(d.Dir, "all.jsonl"), "198.18.0.1-10")
			case "baseline":
				args = append(lanArgs, "--format", "jsonl", "-o", filepath.Join(d.Dir, "again.jsonl"), "--baseline", filepath.Join(d.Dir, "merged.jsonl"), "198.18.0.1-10")
			}
			if _, errs, code := runCLI(t, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
		})
		return
	}
	l := lab.NewLAN(t)
	dir := t.TempDir()
	t.Run("run", func(t *testing.T) { l.Scanner.Reexec(t, mergeLabData{dir, "run"}) })
	if t.Failed() {
		return
	}
	all := filepath.Join(dir, "all.jsonl")
	single := withIndex(t, all, dir, lanIndex)
	shards := splitShards(t, all, 4, dir, lanIndex)
	for _, format := range output.Formats() {
		got, want := filepath.Join(dir, "merged."+format), filepath.Join(dir, "run."+format)
		mergeCLI(t, append([]string{"--format", format, "-o", got}, shards...)...)
		mergeCLI(t, "--format", format, "-o", want, single)
		a, _ := os.ReadFile(got)
		b, _ := os.ReadFile(want)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the merged shards differ from the run:\n--- merged\n%s\n--- run\n%s", format, a, b)
		}
		checkFormat(t, format, got)
	}
	text, _ := os.ReadFile(filepath.Join(dir, "merged.text"))
	for _, want := range []string{"portscan report for 198.18.0.5\n", "25/tcp  open  smtp", "10 hosts (8 up)"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the merged report lacks %q:\n%s", want, text)
		}
	}
	t.Run("baseline", func(t *testing.T) { l.Scanner.Reexec(t, mergeLabData{dir, "baseline"}) })
}

// TestMergeLabShards scans the LAN lab (live, dropping and unassigned
// hosts; TCP and UDP) whole and as 4 shards (--shards 4 --shard-index
// K, 4 processes at once) and merges the shards: the report has the
// whole scan's hosts in its order with their index, each up or down as
// the whole scan saw it, the same listed ports in the same states, the
// same counts of every state, and the whole scan's fingerprint; every
// format of it reads back. The whole scan beside its shards is refused.
func TestMergeLabShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lab.Require(t)
	bin := binary(t)
	l := lab.NewLAN(t)
	dir := t.TempDir()
	// Long timeouts: every state here is an answer or its absence.
	args := []string{"-q", "--format", "jsonl", "--seed", "7", "-sT", "-sU", "-p", "T:21-25,80,110,143,443,3306,8080,U:53,161,500",
		"--min-rtt-timeout", "1s", "--max-rtt-timeout", "2s", "198.18.0.1-12"}
	scan := func(name string, extra ...string) string {
		path := filepath.Join(dir, name+".jsonl")
		cmd := l.Scanner.Command(bin, append(append(append([]string{}, args...), extra...), "-o", path)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v: %s", name, err, out)
		}
		return path
	}
	whole := scan("whole")
	shards := make([]string, 4)
	var wg sync.WaitGroup
	for k := range shards {
		wg.Go(func() { shards[k] = scan(fmt.Sprintf("shard-%d", k), "--shards", "4", "--shard-index", fmt.Sprint(k)) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	merged := filepath.Join(dir, "merged.jsonl")
	mergeCLI(t, append([]string{"--format", "jsonl", "-o", merged}, shards...)...)

	whosts, wports := sameScan(t, whole, merged)
	if len(whosts) != 12 || len(wports) == 0 {
		t.Errorf("the whole scan: %d hosts, %d ports listed", len(whosts), len(wports))
	}
	for _, format := range output.Formats() {
		path := filepath.Join(dir, "merged."+format)
		mergeCLI(t, append([]string{"--format", format, "-o", path}, shards...)...)
		checkFormat(t, format, path)
	}
	_, errs, code := runCLI(t, "merge", whole, shards[0])
	if code != exitUsage || !strings.Contains(errs, "the whole scan and shard 1/4 of one scan, of different splits") {
		t.Errorf("the whole scan beside a shard: exit %d, %q", code, errs)
	}
}

// sameScan checks that the merged report at merged is the whole scan's
// at whole (both jsonl): the same fingerprint, the same hosts in target
// order with their index, status and counts of every state, the same
// listed ports in the same states. It returns the whole scan's hosts
// and listed ports.
func sameScan(t *testing.T, whole, merged string) ([]mergeLabHost, []string) {
	t.Helper()
	read := func(path string) (string, []mergeLabHost, []string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		recs := jsonlRecords(t, string(data))
		var hosts []mergeLabHost
		for _, h := range recs["host"] {
			b, _ := json.Marshal(h)
			var x mergeLabHost
			json.Unmarshal(b, &x)
			hosts = append(hosts, x)
		}
		var ps []string
		for _, p := range recs["port"] {
			ps = append(ps, fmt.Sprintf("%s %v/%s %s", p["host"], p["port"], p["protocol"], p["state"]))
		}
		sort.Strings(ps)
		return fmt.Sprint(recs["scan"][0]["fingerprint"]), hosts, ps
	}
	wfp, whosts, wports := read(whole)
	mfp, mhosts, mports := read(merged)
	if mfp != wfp || wfp == "" {
		t.Errorf("fingerprint %s, the whole scan's %s", mfp, wfp)
	}
	// The whole scan writes hosts as they finish; the merge in target order.
	sort.Slice(whosts, func(i, j int) bool { return whosts[i].Index < whosts[j].Index })
	if fmt.Sprint(mhosts) != fmt.Sprint(whosts) {
		t.Errorf("hosts:\n%v\nthe whole scan's:\n%v", mhosts, whosts)
	}
	if !slices.Equal(mports, wports) {
		t.Errorf("ports:\n%s\nthe whole scan's:\n%s", strings.Join(mports, "\n"), strings.Join(wports, "\n"))
	}
	return whosts, wports
}

// mergeLabHost is what sameScan compares of a host.
type mergeLabHost struct {
	Host       string
	Index      uint64
	Up         bool
	Status     string
	Incomplete bool
	Counts     map[string]int
}

// TestMergeLabResumed scans the LAN lab whole and as 4 shards, of which
// shard 2/4 is stopped by SIGINT and shard 3/4 killed (SIGKILL), each
// then resumed from its state (--resume) to the end: the 4 files merge
// into the whole scan's hosts, ports and counts, as when no shard was
// stopped.
func TestMergeLabResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lab.Require(t)
	bin := binary(t)
	l := lab.NewLAN(t)
	dir := t.TempDir()
	args := []string{"-q", "--format", "jsonl", "--seed", "7", "-p", "1-3000", "--rate", "3000", "--min-rtt-timeout", "1s",
		"--max-rtt-timeout", "2s", "198.18.0.1-8"}
	command := func(extra ...string) *exec.Cmd {
		cmd := l.Scanner.Command(bin, append(append([]string{}, args...), extra...)...)
		cmd.Dir = dir
		return cmd
	}
	if out, err := command("-o", "whole.jsonl").CombinedOutput(); err != nil {
		t.Fatalf("the whole scan: %v: %s", err, out)
	}
	stop := map[int]syscall.Signal{1: syscall.SIGINT, 2: syscall.SIGKILL}
	var shards []string
	for k := range 4 {
		out := fmt.Sprintf("shard-%d.jsonl", k)
		shards = append(shards, filepath.Join(dir, out))
		shard := []string{"--shards", "4", "--shard-index", fmt.Sprint(k), "-o", out}
		sig, ok := stop[k]
		if !ok {
			if b, err := command(shard...).CombinedOutput(); err != nil {
				t.Fatalf("shard %d: %v: %s", k, err, b)
			}
			continue
		}
		state := fmt.Sprintf("shard-%d.state", k)
		cmd := command(append([]string{"--resume", state, "--resume-every", "25ms"}, shard...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(faultBound); ; time.Sleep(20 * time.Millisecond) {
			if st, err := resume.ReadFile(filepath.Join(dir, state)); err == nil && st != nil && progressOf(st) >= 1000 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("shard %d: no progress in its state after %v", k, faultBound)
			}
		}
		cmd.Process.Signal(sig)
		waitBounded(t, cmd, sig.String())
		if st, err := resume.ReadFile(filepath.Join(dir, state)); err != nil || st == nil || st.Done {
			t.Fatalf("shard %d: the state after %v: %+v, %v", k, sig, st, err)
		}
		again := l.Scanner.Command(bin, "-q", "--resume", state)
		again.Dir = dir
		if b, err := again.CombinedOutput(); err != nil {
			t.Fatalf("shard %d resumed: %v: %s", k, err, b)
		}
	}
	merged := filepath.Join(dir, "merged.jsonl")
	mergeCLI(t, append([]string{"--format", "jsonl", "-o", merged}, shards...)...)
	hosts, ports := sameScan(t, filepath.Join(dir, "whole.jsonl"), merged)
	if len(hosts) != 8 || len(ports) != 9 { // 3306 and 8080 are past 3000
		t.Errorf("the whole scan: %d hosts, %d open ports; want 8 and 9", len(hosts), len(ports))
	}
}
