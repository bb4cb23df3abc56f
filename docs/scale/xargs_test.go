package scale

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestXargsLab runs xargs.sh against a lab as its comment says to:
// TARGETS the lab's targets file, PORTSCAN the binary, no SEED (so the
// script picks one and keeps it). A dry run first shows every shard's
// command line and that it names no target of its own; the first real
// run is interrupted with Ctrl-C (SIGINT to its process group) once a
// shard has a result; the same command then resumes the shards and
// merges; a third run finds every shard done. The merged reports must
// say what a single run of the same scan says.
func TestXargsLab(t *testing.T) {
	requireLab(t)
	bin := portscanBin(t)
	requireMerge(t, bin)
	l := newLab(t)
	st := newStand(t, bin)
	dir := openDir(t, false)
	targets := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(targets, []byte(labTargets), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("xargs.sh")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	env := []string{"PATH=" + st.dir + ":/usr/bin:/bin", "TARGETS=" + targets, "OUT=" + out}
	const shards = 4 // the script's default
	run := func(interrupt bool, extra ...string) (int, string) {
		var watch []string
		for k := range shards {
			watch = append(watch, filepath.Join(out, "part-"+strconv.Itoa(k)+".jsonl"))
		}
		return runScript(t, l.scanner, dir, append(env, extra...), interrupt, watch, "sh", script, "-p", "1-1024")
	}

	if code, msg := run(false, "DRY=1"); code != 0 {
		t.Fatalf("dry run: exit %d:\n%s", code, msg)
	}
	scans := checkCalls(t, st.calls(t), dir, targets)
	checkShards(t, scans, shards)
	if t.Failed() {
		t.FailNow()
	}
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}

	code, msg := run(true)
	switch code {
	case 0:
		t.Logf("every shard finished before Ctrl-C; the reruns below only check the done states")
	default:
		t.Logf("interrupted: exit %d:\n%s", code, msg)
		undone := 0
		for k := range shards {
			if p := filepath.Join(out, "state-"+strconv.Itoa(k)+".json"); lines(p) > 0 && !stateDone(t, p) {
				undone++
			}
		}
		if undone == 0 {
			t.Errorf("interrupted, and no shard has a state that is not done")
		}
	}
	first := checkCalls(t, st.calls(t), dir, targets)
	if code, msg := run(false); code != 0 {
		t.Fatalf("rerun: exit %d:\n%s", code, msg)
	}
	again := checkCalls(t, st.calls(t), dir, targets)
	checkShards(t, again, shards)
	seed, err := os.ReadFile(filepath.Join(out, "seed"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range append(first, again...) {
		if !strings.Contains(strings.Join(args, " "), "--seed "+string(seed)+" ") {
			t.Errorf("portscan %q: not the seed kept in OUT/seed, %s", args, seed)
		}
	}

	whole := filepath.Join(dir, "whole.jsonl")
	singleArgs, err := unsharded(scans[0], whole)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := exitCode(t, l.scanner.command(bin, singleArgs...)); code != 0 {
		t.Fatalf("single run %q: exit %d:\n%s", singleArgs, code, msg)
	}
	want := readReport(t, whole)
	checkLabReport(t, want, true) // run as root
	for _, name := range []string{"report.jsonl", "report.xml"} {
		if d := want.diff(readReport(t, filepath.Join(out, name))); d != "" {
			t.Errorf("%s differs from a single run of the scan:\n%s", name, d)
		}
	}

	for k := range shards {
		if p := filepath.Join(out, "state-"+strconv.Itoa(k)+".json"); !stateDone(t, p) {
			t.Errorf("%s: not marked done after the rerun", p)
		}
	}
	// Every shard is done: a third run scans nothing and merges again.
	parts := map[string][]byte{}
	for k := range shards {
		p := filepath.Join(out, "part-"+strconv.Itoa(k)+".jsonl")
		parts[p], _ = os.ReadFile(p)
	}
	if code, msg := run(false); code != 0 {
		t.Fatalf("third run: exit %d:\n%s", code, msg)
	}
	st.calls(t)
	for p, before := range parts {
		if after, _ := os.ReadFile(p); string(after) != string(before) {
			t.Errorf("the third run changed %s, whose shard was done", p)
		}
	}
	if d := want.diff(readReport(t, filepath.Join(out, "report.xml"))); d != "" {
		t.Errorf("report.xml of the third run differs:\n%s", d)
	}
}
