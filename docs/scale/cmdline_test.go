package scale

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// scanFlags are the flags of portscan's scan that the examples use, and
// whether each takes a value. checkScan refuses any other, so that a flag
// added to an example is looked at here before a test runs it: a flag
// the table got wrong could turn its value into a target.
var scanFlags = map[string]bool{
	"--shards": true, "--shard-index": true, "--shard": true, "--seed": true,
	"--resume": true, "--resume-every": true,
	"--format": true, "-o": true, "--output": true,
	"-p": true, "--ports": true, "-iL": true, "--input-list": true,
	"-q": false, "--quiet": false,
}

// mergeFlags are portscan merge's flags, as scanFlags.
var mergeFlags = map[string]bool{"--format": true, "-o": true, "--output": true, "--force": false, "-q": false}

// cmdline is a portscan command line split into its flags (in order,
// each with its value or "") and its other arguments.
type cmdline struct {
	flags [][2]string
	rest  []string
}

// parseCmdline splits args by the flags table known; an unknown flag is
// an error.
func parseCmdline(args []string, known map[string]bool) (cmdline, error) {
	var c cmdline
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			c.rest = append(c.rest, a)
			continue
		}
		name, value, glued := strings.Cut(a, "=")
		takes, ok := known[name]
		switch {
		case !ok:
			return c, fmt.Errorf("flag %q is not in the tests' table of flags (cmdline_test.go): add it, with whether it takes a value", name)
		case takes && !glued:
			if i+1 == len(args) {
				return c, fmt.Errorf("flag %s has no value", name)
			}
			i++
			value = args[i]
		case !takes && glued:
			return c, fmt.Errorf("flag %s takes no value, got %q", name, a)
		}
		c.flags = append(c.flags, [2]string{name, value})
	}
	return c, nil
}

// values returns the values of the flag under any of its names.
func (c cmdline) values(names ...string) []string {
	var out []string
	for _, f := range c.flags {
		for _, n := range names {
			if f[0] == n {
				out = append(out, f[1])
			}
		}
	}
	return out
}

// checkScan checks that a scan's command line, run in dir, takes its
// targets from the file targets alone: no target argument, and one
// -iL that names that file.
func checkScan(args []string, dir, targets string) error {
	c, err := parseCmdline(args, scanFlags)
	if err != nil {
		return err
	}
	if len(c.rest) > 0 {
		return fmt.Errorf("the command line names targets of its own: %q (the tests scan only the lab's targets file)", c.rest)
	}
	lists := c.values("-iL", "--input-list")
	if len(lists) != 1 {
		return fmt.Errorf("the command line has %d target lists (-iL), want 1", len(lists))
	}
	got := lists[0]
	if !filepath.IsAbs(got) {
		got = filepath.Join(dir, got)
	}
	if filepath.Clean(got) != filepath.Clean(targets) {
		return fmt.Errorf("-iL %s is not the test's targets file %s", lists[0], targets)
	}
	return nil
}

// shardsOf returns the shard count and index of a scan's command line,
// from --shards N --shard-index K or --shard I/N; count 0 if unsharded.
func shardsOf(args []string) (count, index int, err error) {
	c, err := parseCmdline(args, scanFlags)
	if err != nil {
		return 0, 0, err
	}
	if s := c.values("--shard"); len(s) > 0 {
		i, n, ok := strings.Cut(s[len(s)-1], "/")
		if !ok {
			return 0, 0, fmt.Errorf("--shard %s: want I/N", s[len(s)-1])
		}
		if index, err = strconv.Atoi(i); err == nil {
			count, err = strconv.Atoi(n)
		}
		return count, index - 1, err
	}
	n, k := c.values("--shards"), c.values("--shard-index")
	if len(n) == 0 {
		return 0, 0, nil
	}
	if count, err = strconv.Atoi(n[len(n)-1]); err != nil {
		return 0, 0, fmt.Errorf("--shards %s: %v", n[len(n)-1], err)
	}
	if len(k) == 0 {
		return count, 0, fmt.Errorf("--shards without --shard-index")
	}
	index, err = strconv.Atoi(k[len(k)-1])
	return count, index, err
}

// unsharded returns a scan's command line without its shard and resume
// flags and with its output in out: the same scan, run whole.
func unsharded(args []string, out string) ([]string, error) {
	c, err := parseCmdline(args, scanFlags)
	if err != nil {
		return nil, err
	}
	var res []string
	for _, f := range c.flags {
		switch f[0] {
		case "--shards", "--shard-index", "--shard", "--resume", "--resume-every", "-o", "--output":
			continue
		}
		res = append(res, f[0])
		if scanFlags[f[0]] {
			res = append(res, f[1])
		}
	}
	return append(res, "-o", out), nil
}

func TestCheckScan(t *testing.T) {
	const dir, targets = "/w", "/w/t.txt"
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"list only", []string{"-p", "1-1024", "-iL", "t.txt"}, true},
		{"absolute list", []string{"--input-list=/w/t.txt", "-q"}, true},
		{"a target", []string{"-iL", "t.txt", "198.51.100.7"}, false},
		{"a target after --", []string{"-iL", "t.txt", "--", "-x"}, false},
		{"a value-less flag before a target", []string{"-q", "10.0.0.0/8", "-iL", "t.txt"}, false},
		{"another list", []string{"-iL", "hosts.txt"}, false},
		{"two lists", []string{"-iL", "t.txt", "-iL", "t.txt"}, false},
		{"no list", []string{"-p", "80"}, false},
		{"an unknown flag", []string{"-iL", "t.txt", "--exclude", "x"}, false},
		{"a flag lacking its value", []string{"-iL"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkScan(tc.args, dir, targets)
			if (err == nil) != tc.ok {
				t.Errorf("checkScan(%q) = %v, want ok %v", tc.args, err, tc.ok)
			}
		})
	}
}

func TestShardsOf(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		n, k     int
		wantsErr bool
	}{
		{[]string{"--shards", "4", "--shard-index", "3"}, 4, 3, false},
		{[]string{"--shard", "2/4"}, 4, 1, false},
		{[]string{"-p", "80"}, 0, 0, false},
		{[]string{"--shards", "4"}, 4, 0, true},
		{[]string{"--shard", "2"}, 0, 0, true},
	} {
		n, k, err := shardsOf(tc.args)
		if n != tc.n || k != tc.k || (err != nil) != tc.wantsErr {
			t.Errorf("shardsOf(%q) = %d, %d, %v; want %d, %d, error %v", tc.args, n, k, err, tc.n, tc.k, tc.wantsErr)
		}
	}
	got, err := unsharded([]string{"--shards", "4", "--shard-index", "1", "--seed", "7", "--resume", "s", "-o", "p", "-q", "-iL", "t"}, "whole")
	if want := "--seed 7 -q -iL t -o whole"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("unsharded = %q, %v; want %q", got, err, want)
	}
}
