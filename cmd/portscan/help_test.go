package main

import (
	"slices"
	"strings"
	"testing"
)

// TestHelpShowsNoSentinel checks that --timing, unset, shows no default
// in --help: -1 means "no template" and is no value a user types.
func TestHelpShowsNoSentinel(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "--timing") && strings.Contains(line, "default") {
			t.Errorf("help line %q shows a default", line)
		}
	}
}

// TestHelpListsNmapSpellings checks that the scan's help has a section
// naming each nmap spelling it translates, with the flag it stands for,
// and the spellings it refuses.
func TestHelpListsNmapSpellings(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	_, section, ok := strings.Cut(out, "nmap spellings")
	if !ok {
		t.Fatalf("no nmap spellings section in help:\n%s", out)
	}
	for _, want := range [][2]string{
		{"-sT", "--tcp"}, {"-sU", "--udp"}, {"-Pn", "--skip-discovery"}, {"-iL", "--input-list"},
		{"-oX", "--output-xml"}, {"-oN", "--output-normal"}, {"-oG", "--output-grepable"}, {"-oA", "--output-all"},
		{"-F", "--top-ports"}, {"-p-", "--ports"},
		{"-T4", "--timing"}, {"-T aggressive", "--timing"}, {"-sn", "--discover-only"},
	} {
		found := false
		for _, line := range strings.Split(section, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, want[0]) && strings.Contains(line, want[1]) {
				found = true
			}
		}
		if !found {
			t.Errorf("section lacks a line with %s and %s:\n%s", want[0], want[1], section)
		}
	}
	for _, refused := range []string{"-sS", "-sV", "-O", "-A", "-sC", "-oS", "-oM", "-oH"} {
		if !slices.Contains(strings.Fields(section), refused) {
			t.Errorf("section does not name refused %s:\n%s", refused, section)
		}
	}
	// Subcommands have their own help.
	sub, _, _ := runCLI(t, "services", "--help")
	if strings.Contains(sub, "nmap spellings") {
		t.Errorf("services --help lists the scan's nmap spellings")
	}
}

// TestTimingSpellings checks every way nmap takes a timing template, and
// that a bad one is a one-line usage error.
func TestTimingSpellings(t *testing.T) {
	for _, args := range [][]string{
		{"-T4"}, {"-T", "4"}, {"-T=4"}, {"-T", "aggressive"}, {"-Taggressive"}, {"--timing", "insane"}, {"--timing=3"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errs, code := runCLI(t, append(args, "-Pn", "-p", "1", "--format", "jsonl", "127.0.0.1")...)
			if code != 0 {
				t.Errorf("exit %d, stderr %q", code, errs)
			}
		})
	}
	for _, args := range [][]string{{"-T9"}, {"-T", "fast"}, {"--timing", "6"}, {"-T"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errs, code := runCLI(t, append(args, "-p", "1", "127.0.0.1")...)
			if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "timing") {
				t.Errorf("exit %d, stderr %q; want 2 and one line about the timing", code, errs)
			}
		})
	}
}

// TestTimingSpellingsTranslate checks what the -T spellings become.
func TestTimingSpellingsTranslate(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"-T4", "x"}, []string{"--timing=4", "x"}},
		{[]string{"-T", "4", "x"}, []string{"--timing=4", "x"}},
		{[]string{"-T=polite"}, []string{"--timing=polite"}},
		{[]string{"-Tsneaky"}, []string{"--timing=sneaky"}},
		{[]string{"-T"}, []string{"--timing"}},
		{[]string{"--", "-T4"}, []string{"--", "-T4"}},
	}
	for _, tt := range tests {
		if got := nmapTiming(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("nmapTiming(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// complete runs cobra's hidden __complete command, as the shell scripts
// of "portscan completion" do, and returns the suggestions and the
// directive.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	out, _, code := runCLI(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %q: exit %d", args, code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var words []string
	for _, l := range lines[:len(lines)-1] {
		w, _, _ := strings.Cut(l, "\t")
		words = append(words, w)
	}
	return words, lines[len(lines)-1]
}

// TestCompletion checks the suggestions for every flag that takes one
// of a few words, and that file flags complete file names.
func TestCompletion(t *testing.T) {
	const noFile = ":4" // cobra.ShellCompDirectiveNoFileComp
	tests := []struct {
		args      []string
		want      []string
		directive string
	}{
		{[]string{"--format", ""}, []string{"text", "jsonl", "json", "csv", "xml", "grepable", "html"}, noFile},
		{[]string{"--format", "j"}, []string{"jsonl", "json"}, noFile},
		{[]string{"--lang", ""}, []string{"zh", "en"}, noFile},
		{[]string{"--color", ""}, []string{"auto", "always", "never"}, noFile},
		{[]string{"--progress", ""}, []string{"auto", "always", "never"}, noFile},
		{[]string{"--show", ""}, []string{"closed", "filtered", "open|filtered"}, ":6"}, // NoSpace|NoFileComp: a list goes on
		{[]string{"--show", "closed,"}, []string{"closed,filtered", "closed,open|filtered"}, ":6"},
		{[]string{"--timing", ""}, []string{"0", "1", "2", "3", "4", "5", "paranoid", "sneaky", "polite", "normal", "aggressive", "insane"}, noFile},
		{[]string{"services", "--format", ""}, []string{"text", "json"}, noFile},
		{[]string{"diff", "--format", ""}, []string{"text", "json", "html"}, noFile},
		{[]string{"audit", "--format", ""}, []string{"text", "json", "html"}, noFile},
		{[]string{"pcap", "--format", ""}, []string{"text", "jsonl", "json", "csv", "xml", "grepable", "html"}, noFile},
		{[]string{"report", "--show", ""}, []string{"closed", "filtered", "open|filtered", "down"}, ":6"},
		{[]string{"pcap", "--show", ""}, []string{"closed", "filtered", "open|filtered"}, ":6"},
		{[]string{"services", "--lang", ""}, []string{"zh", "en"}, noFile},
	}
	// The shard flags are flags completion names.
	if got, _ := complete(t, "--shard"); !slices.Equal(got, []string{"--shard", "--shard-index", "--shards"}) {
		t.Errorf("--shard completes to %q", got)
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, directive := complete(t, tt.args...)
			if !slices.Equal(got, tt.want) || directive != tt.directive {
				t.Errorf("suggestions %q %s, want %q %s", got, directive, tt.want, tt.directive)
			}
		})
	}
	for _, args := range [][]string{
		{"-o", ""}, {"--output-xml", ""}, {"--output-normal", ""}, {"--input-list", ""}, {"--exclude-file", ""},
		{"--services", ""}, {"--baseline", ""}, {"--stylesheet", ""},
		{"audit", "--policy", ""}, {"audit", "--from", ""}, {"audit", "--junit", ""}, {"audit", "--sarif", ""}, {"audit", "--save", ""},
		{"pcap", "--write", ""}, {"diff", "-o", ""},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got, directive := complete(t, args...)
			if len(got) != 0 || directive != ":0" { // cobra.ShellCompDirectiveDefault: file names
				t.Errorf("suggestions %q %s, want file names (:0)", got, directive)
			}
		})
	}
	// A flag that takes a number or a duration suggests nothing, not file names.
	for _, args := range [][]string{{"--rate", ""}, {"--max-rtt-timeout", ""}, {"--shard", ""}, {"--shards", ""}, {"--shard-index", ""}} {
		got, directive := complete(t, args...)
		if len(got) != 0 || directive != noFile {
			t.Errorf("%q: suggestions %q %s, want none (%s)", args, got, directive, noFile)
		}
	}
}
