package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/output"
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
	for _, want := range []string{"portscan report for 198.18.0.5\n", "25/tcp  open  smtp", "10 hosts (5 up)"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the merged report lacks %q:\n%s", want, text)
		}
	}
	t.Run("baseline", func(t *testing.T) { l.Scanner.Reexec(t, mergeLabData{dir, "baseline"}) })
}
