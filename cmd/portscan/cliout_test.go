package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// inTempDir makes a fresh directory the working directory for the
// rest of the test, so that a file a flag misreads into existence is
// seen there.
func inTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// dirFiles lists the names in dir, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// checkUsageError wants exit 2 with one line on stderr holding msg, and
// nothing on stdout.
func checkUsageError(t *testing.T, out, errs string, code int, msg string) {
	t.Helper()
	if code != exitUsage || !strings.Contains(errs, msg) || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "portscan: ") {
		t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, msg)
	}
	if out != "" {
		t.Errorf("stdout %q for a usage error", out)
	}
}

// TestNmapOutputFlags runs each of nmap's -o? forms: those portscan
// writes write what nmap would, the others are refused with a reason;
// none leaves a file named after a letter, or scans the file name.
func TestNmapOutputFlags(t *testing.T) {
	scan := []string{"-Pn", "-p", "1", "127.0.0.1"}
	refused := []struct {
		name string
		args []string
		msg  string
	}{
		{"script kiddie", []string{"-oS", "x"}, "nmap's -oS (script kiddie output) is not written"},
		{"script kiddie glued", []string{"-oS=x"}, "nmap's -oS (script kiddie output) is not written"},
		{"old machine", []string{"-oM", "x"}, "nmap's -oM is not written: it is nmap's old name for grepable output; use -oG FILE"},
		{"html", []string{"-oH", "x"}, "nmap's -oH is not written"},
		{"unknown letter", []string{"-oQ", "x"}, "-oQ is no output flag"},
		{"glued file name", []string{"-ofile.txt"}, "-ofile.txt is no output flag"},
		{"cluster", []string{"-nqoX", "x"}, "-nqoX: give -o apart"},
		{"glued -oX", []string{"-oXx.xml"}, "-oXx.xml is ambiguous: write -oX x.xml"},
		{"glued -oN", []string{"-oNx"}, "-oNx is ambiguous: write -oN x"},
		{"empty =", []string{"-oX="}, "--output-xml needs a file name"},
		{"-oA stdout", []string{"-oA", "-"}, "--output-all needs a base name"},
		{"two on stdout", []string{"-oX", "-", "-oN", "-"}, "--output-xml and --output-normal both write to standard output"},
		{"format and -oX -", []string{"--format", "json", "-oX", "-"}, "--output and --output-xml both write to standard output"},
		{"-o - and -oG -", []string{"-o", "-", "-oG", "-"}, "--output and --output-grepable both write to standard output"},
		{"same file", []string{"-o", "x", "--output-xml", "x"}, "--output and --output-xml both write to x"},
		{"same cleaned path", []string{"-o", "./d/../x", "-oN", "x"}, "--output and --output-normal both write to x"},
		{"-oA and -oX", []string{"-oA", "b", "-oX", "b.xml"}, "--output-xml and --output-all both write to b.xml"},
		{"-oA and --output-grepable", []string{"-oA", "b", "--output-grepable", "b.gnmap"}, "--output-grepable and --output-all both write to b.gnmap"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			dir := inTempDir(t)
			out, errs, code := runCLI(t, append(c.args, scan...)...)
			checkUsageError(t, out, errs, code, c.msg)
			if got := dirFiles(t, dir); len(got) > 0 {
				t.Errorf("files created: %v", got)
			}
		})
	}

	works := []struct {
		name   string
		args   []string
		files  []string
		stdout string // its start
	}{
		{"-oX=FILE", []string{"-oX=x.xml"}, []string{"x.xml"}, "Starting portscan"},
		{"-oX -", []string{"-oX", "-"}, nil, "<?xml"},
		{"-oN -", []string{"-oN", "-"}, nil, "Starting portscan"},
		{"-oG -", []string{"-oG", "-"}, nil, "# portscan 0.1.0 scan initiated "},
		{"-oG FILE", []string{"-oG", "g"}, []string{"g"}, "Starting portscan"},
		{"-oG=FILE", []string{"-oG=g"}, []string{"g"}, "Starting portscan"},
		{"-oA BASE", []string{"-oA", "b"}, []string{"b.gnmap", "b.nmap", "b.xml"}, "Starting portscan"},
		{"--output-all BASE", []string{"--output-all", "b"}, []string{"b.gnmap", "b.nmap", "b.xml"}, "Starting portscan"},
		{"-o -", []string{"-o", "-", "--format", "jsonl"}, nil, `{"type":"scan"`},
		{"-oX - and -o FILE", []string{"--output-xml", "-", "-o", "out.txt"}, []string{"out.txt"}, "<?xml"},
	}
	for _, c := range works {
		t.Run(c.name, func(t *testing.T) {
			dir := inTempDir(t)
			out, errs, code := runCLI(t, append(c.args, scan...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := dirFiles(t, dir); !slices.Equal(got, c.files) {
				t.Errorf("files %v, want %v", got, c.files)
			}
			if !strings.HasPrefix(out, c.stdout) {
				t.Errorf("stdout starts %q, want %q", out[:min(len(out), 60)], c.stdout)
			}
			if strings.Count(out, "Starting portscan")+strings.Count(out, "<?xml version")+strings.Count(out, "# portscan 0.1.0") > 1 {
				t.Errorf("two outputs on stdout:\n%s", out)
			}
			for _, f := range c.files {
				data, _ := os.ReadFile(filepath.Join(dir, f))
				want := map[string]string{".xml": "<?xml", ".nmap": "Starting portscan", ".gnmap": "# portscan", ".txt": "Starting portscan", "": "# portscan"}[filepath.Ext(f)]
				if !strings.HasPrefix(string(data), want) {
					t.Errorf("%s starts %q, want %q", f, string(data)[:min(len(data), 40)], want)
				}
			}
		})
	}
}

// TestOutputsSameFile refuses two outputs that are one file through a
// hard or symbolic link, or a linked directory, and an output that is
// an input; it allows --baseline's file as an output, as documented.
func TestOutputsSameFile(t *testing.T) {
	scan := []string{"-Pn", "-p", "1", "127.0.0.1"}
	for _, c := range []struct {
		name  string
		setup func(t *testing.T)
		args  []string
		msg   string
	}{
		{"hard link", func(t *testing.T) { must(t, os.Link("a", "h")) }, []string{"-o", "a", "--output-xml", "h"}, "--output and --output-xml both write to a"},
		{"symlink", func(t *testing.T) { must(t, os.Symlink("a", "s")) }, []string{"-o", "a", "-oN", "s"}, "--output and --output-normal both write to a"},
		{"dangling symlink", func(t *testing.T) { must(t, os.Symlink("new", "d")) }, []string{"-o", "new", "-oG", "d"}, "--output and --output-grepable both write to new"},
		{"linked directory", func(t *testing.T) { must(t, os.Mkdir("r", 0o755)); must(t, os.Symlink("r", "l")) }, []string{"-o", "r/x", "-oX", "l/x"}, "--output and --output-xml both write to r/x"},
		{"input list", func(t *testing.T) { must(t, os.WriteFile("list", []byte("127.0.0.1\n"), 0o644)) }, []string{"-iL", "list", "-o", "list"}, "--output would overwrite --input-list list"},
		{"exclude file", func(t *testing.T) { must(t, os.WriteFile("ex", []byte("127.0.0.2\n"), 0o644)) }, []string{"--exclude-file", "ex", "-oN", "ex"}, "--output-normal would overwrite --exclude-file ex"},
		{"catalog", func(t *testing.T) { must(t, os.WriteFile("cat", []byte("x 9999/tcp\n"), 0o644)) }, []string{"--services", "cat", "-o", "cat"}, "--output would overwrite --services cat"},
		{"-oA BASE is not BASE", nil, []string{"-iL", "a", "-oA", "a"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := inTempDir(t)
			must(t, os.WriteFile("a", []byte("127.0.0.1\n"), 0o644))
			if c.setup != nil {
				c.setup(t)
			}
			before := dirFiles(t, dir)
			out, errs, code := runCLI(t, append(c.args, scan...)...)
			if c.msg == "" { // -oA a writes a.nmap, a.xml and a.gnmap, not a
				if code != 0 {
					t.Errorf("exit %d: %s", code, errs)
				}
				return
			}
			checkUsageError(t, out, errs, code, c.msg)
			if after := dirFiles(t, dir); !slices.Equal(before, after) {
				t.Errorf("files %v, were %v", after, before)
			}
			if data, _ := os.ReadFile("a"); string(data) != "127.0.0.1\n" {
				t.Errorf("a overwritten: %q", data)
			}
		})
	}

	t.Run("baseline as output", func(t *testing.T) {
		inTempDir(t)
		args := append([]string{"--format", "jsonl", "-o", "last.jsonl"}, scan...)
		if _, errs, code := runCLI(t, args...); code != 0 {
			t.Fatalf("first run: exit %d: %s", code, errs)
		}
		if _, errs, code := runCLI(t, append([]string{"--baseline", "last.jsonl"}, args...)...); code != 0 {
			t.Fatalf("--baseline and -o one file: exit %d: %s", code, errs)
		}
		if _, errs, code := runCLI(t, append([]string{"--baseline", "last.jsonl", "--output-xml", "last.jsonl"}, args...)...); code != 2 || !strings.Contains(errs, "--output and --output-xml both write to last.jsonl") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// usageCase is a command line that must be refused as a usage error,
// in a directory holding a policy p.yaml and files a and b, before any
// file is made.
type usageCase struct {
	name string
	args []string
	msg  string
}

func runUsageCases(t *testing.T, cases []usageCase) {
	t.Helper()
	const policy = "groups:\n  - name: lo\n    targets: 127.0.0.1\n    allow: [ssh]\n"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := inTempDir(t)
			must(t, os.WriteFile("p.yaml", []byte(policy), 0o644))
			must(t, os.WriteFile("a", []byte("{}\n"), 0o644))
			must(t, os.WriteFile("b", []byte("{}\n"), 0o644))
			before := dirFiles(t, dir)
			out, errs, code := runCLI(t, c.args...)
			checkUsageError(t, out, errs, code, c.msg)
			if after := dirFiles(t, dir); !slices.Equal(before, after) {
				t.Errorf("files %v, were %v", after, before)
			}
		})
	}
}

func labPcap(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(pcapDir, "lab-lo.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSubcommandPaths checks the outputs of pcap, audit and diff as a
// scan's: no two on one file or on stdout, none over an input.
func TestSubcommandPaths(t *testing.T) {
	pcapFile := labPcap(t)
	runUsageCases(t, []usageCase{
		{"pcap -o and -w", []string{"pcap", "-o", "out", "-w", "out", pcapFile}, "--output and --write both write to out"},
		{"pcap -w - and report", []string{"pcap", "-w", "-", pcapFile}, "--output and --write both write to standard output"},
		{"pcap -w - and --packets", []string{"pcap", "-o", "out", "--packets", "-w", "-", pcapFile}, "--packets and --write both write to standard output"},
		{"audit report and junit", []string{"audit", "--policy", "p.yaml", "-o", "out", "--junit", "out"}, "--output and --junit both write to out"},
		{"audit save and report", []string{"audit", "--policy", "p.yaml", "-o", "out", "--save", "out"}, "--output and --save both write to out"},
		{"audit junit on stdout", []string{"audit", "--policy", "p.yaml", "--junit", "-"}, "--output and --junit both write to standard output"},
		{"audit -oX -", []string{"audit", "--policy", "p.yaml", "-oX", "-"}, "--output and --output-xml both write to standard output"},
		{"audit -oA and --sarif", []string{"audit", "--policy", "p.yaml", "-oA", "s", "--sarif", "s.xml"}, "--sarif and --output-all both write to s.xml"},
		{"audit policy", []string{"audit", "--policy", "p.yaml", "--sarif", "p.yaml"}, "--sarif would overwrite --policy p.yaml"},
		{"audit baseline", []string{"audit", "--policy", "p.yaml", "--baseline", "a", "-o", "a"}, "--output would overwrite --baseline a"},
		{"diff overwrite", []string{"diff", "-o", "a", "a", "b"}, "--output would overwrite OLD a"},
		{"diff overwrite NEW", []string{"diff", "-o", "./b", "a", "b"}, "--output would overwrite NEW b"},
	})
}

// TestFlagValidation checks every enum-like and numeric flag of every
// subcommand: a bad value is a usage error before any file is made.
func TestFlagValidation(t *testing.T) {
	pcapFile := labPcap(t)
	scan := []string{"-Pn", "-p", "1", "127.0.0.1"}
	runUsageCases(t, []usageCase{
		{"progress", append([]string{"--progress", "bogus"}, scan...), `invalid --progress "bogus": want auto, always or never`},
		{"rate NaN", append([]string{"--rate", "NaN"}, scan...), "invalid --rate NaN: want a number of probes a second, 0 or more (0: no limit)"},
		{"rate Inf", append([]string{"--rate", "Inf"}, scan...), "invalid --rate +Inf"},
		{"rate -Inf", append([]string{"--rate", "-Inf"}, scan...), "invalid --rate -Inf"},
		{"rate negative", append([]string{"--rate", "-1"}, scan...), "invalid --rate -1"},
		{"concurrency", append([]string{"--concurrency", "-1"}, scan...), "invalid --concurrency -1: want 0 or more"},
		{"host group", append([]string{"--host-group", "-2"}, scan...), "invalid --host-group -2: want 0 or more"},
		{"timing", append([]string{"--timing", "7"}, scan...), `invalid timing template "7"`},
		{"timing -1", append([]string{"--timing", "-1"}, scan...), `invalid timing template "-1"`},
		{"top ports", append([]string{"--top-ports", "-5"}, scan...), "invalid --top-ports -5"},
		{"initial rtt", append([]string{"--initial-rtt-timeout", "-1s"}, scan...), "invalid RTT timeouts"},
		{"format before -o", append([]string{"--format", "bogus", "-o", "out"}, scan...), `unknown output format "bogus"`},
		{"show before -o", append([]string{"--show", "bogus", "-o", "out"}, scan...), `invalid --show state "bogus"`},
		{"color", append([]string{"--color", "pink"}, scan...), `invalid --color "pink"`},
		{"lang", append([]string{"--lang", "fr"}, scan...), `invalid --lang "fr"`},

		{"pcap format before -o", []string{"pcap", "--format", "bogus", "-o", "out", pcapFile}, `unknown output format "bogus"`},
		{"pcap idle", []string{"pcap", "--idle-timeout", "-1s", pcapFile}, "must be positive"},
		{"pcap flows", []string{"pcap", "--max-flows", "0", "-o", "out", pcapFile}, "must be positive"},
		{"pcap show", []string{"pcap", "--show", "sideways", "-o", "out", pcapFile}, `invalid --show state "sideways"`},

		{"audit rate", []string{"audit", "--policy", "p.yaml", "--rate", "NaN", "-o", "out"}, "invalid --rate NaN"},
		{"audit progress", []string{"audit", "--policy", "p.yaml", "--progress", "bogus"}, `invalid --progress "bogus"`},
		{"audit timing", []string{"audit", "--policy", "p.yaml", "--timing", "-1"}, `invalid timing template "-1"`},
		{"audit format", []string{"audit", "--policy", "p.yaml", "--format", "xml"}, `invalid --format "xml": want text, json or html`},

		{"diff format", []string{"diff", "--format", "xml", "a", "b"}, `invalid --format "xml": want text, json or html`},
		{"services format", []string{"services", "--format", "xml"}, `unknown output format "xml" for services`},
	})
}
