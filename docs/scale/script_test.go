package scale

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stand is a portscan for the scripts of the examples to call: a shell
// script named portscan that logs its arguments, one file a call, then
// runs the real binary, or with DRY set in its environment only logs.
type stand struct {
	dir string // holds the script; put it first on the PATH
	log string // one file a call
}

func newStand(t testing.TB, bin string) stand {
	t.Helper()
	s := stand{dir: openDir(t, false), log: openDir(t, false)}
	script := fmt.Sprintf(`#!/bin/sh
f=$(mktemp %q/call-XXXXXXXX)
printf '%%s\0' "$@" >"$f"
if [ -n "${DRY:-}" ]; then exit 0; fi
exec %q "$@"
`, s.log, bin)
	if err := os.WriteFile(filepath.Join(s.dir, "portscan"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// calls returns the argument lists portscan was called with since the
// last call of calls, and forgets them.
func (s stand) calls(t testing.TB) [][]string {
	t.Helper()
	entries, err := os.ReadDir(s.log)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, e := range entries {
		path := filepath.Join(s.log, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{}
		if len(data) > 0 {
			args = strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		}
		out = append(out, args)
		os.Remove(path)
	}
	return out
}

// checkCalls checks the portscan command lines a script ran in dir: a
// scan takes its targets from the file targets alone, merge reads only
// files, and audit judges a file (--from) instead of scanning. It
// returns the scans' command lines, ordered by shard index.
func checkCalls(t testing.TB, calls [][]string, dir, targets string) [][]string {
	t.Helper()
	var scans [][]string
	for _, args := range calls {
		switch {
		case len(args) > 0 && args[0] == "merge":
			if _, err := parseCmdline(args[1:], mergeFlags); err != nil {
				t.Errorf("portscan %q: %v", args, err)
			}
		case len(args) > 0 && args[0] == "audit":
			c, err := parseCmdline(args[1:], auditFlags)
			if err != nil || len(c.values("--from")) != 1 || len(c.rest) > 0 {
				t.Errorf("portscan %q: want audit of a file (--from), no scan: %v", args, err)
			}
		default:
			if err := checkScan(args, dir, targets); err != nil {
				t.Errorf("portscan %q: %v", args, err)
			}
			scans = append(scans, args)
		}
	}
	slices.SortFunc(scans, func(a, b []string) int {
		_, i, _ := shardsOf(a)
		_, j, _ := shardsOf(b)
		return i - j
	})
	return scans
}

// auditFlags are portscan audit's flags, as scanFlags.
var auditFlags = map[string]bool{"--policy": true, "--from": true, "--junit": true, "--sarif": true, "--save": true, "--baseline": true, "-q": false}

// checkShards checks that scans are the shards 0 to n-1 of one scan.
func checkShards(t testing.TB, scans [][]string, n int) {
	t.Helper()
	if len(scans) != n {
		t.Fatalf("%d scans, want %d shards", len(scans), n)
	}
	var seed string
	for k, args := range scans {
		count, index, err := shardsOf(args)
		if err != nil || count != n || index != k {
			t.Errorf("portscan %q: shard %d of %d (%v), want %d of %d", args, index, count, err, k, n)
		}
		c, _ := parseCmdline(args, scanFlags)
		s := c.values("--seed")
		if len(s) == 1 {
			if _, err := strconv.ParseUint(s[0], 10, 64); err != nil {
				t.Errorf("portscan %q: seed %q is not a decimal number", args, s[0])
			}
		}
		if len(s) != 1 || k > 0 && s[0] != seed {
			t.Errorf("portscan %q: seed %q, want one, the same in every shard (%s)", args, s, seed)
		}
		if len(s) == 1 && k == 0 {
			seed = s[0]
		}
		if len(c.values("--resume")) != 1 {
			t.Errorf("portscan %q: no --resume", args)
		}
	}
}

// runScript runs a shell script inside ns in dir, in a process group of
// its own, and returns its exit status and output. With interrupt, the
// group gets SIGINT (a Ctrl-C) as soon as one of the files watch has a
// result line.
func runScript(t testing.TB, ns *netns, dir string, env []string, interrupt bool, watch []string, shell ...string) (int, string) {
	t.Helper()
	cmd := ns.command(shell[0], shell[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if interrupt {
		sent := false
		for !sent {
			select {
			case err := <-done:
				return exitStatus(t, cmd, err), buf.String()
			default:
			}
			for _, w := range watch {
				if lines(w) >= 2 {
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
					sent = true
					break
				}
			}
			if !sent {
				sleep()
			}
		}
	}
	return exitStatus(t, cmd, <-done), buf.String()
}

// sleep is the poll interval of the tests that wait for a result line.
func sleep() { time.Sleep(5 * time.Millisecond) }
