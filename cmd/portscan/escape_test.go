package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/portscan/portscan/internal/lab"
)

// hostileService is a service name that sets the terminal's title,
// clears the screen, and starts a line that GitHub Actions would run as
// a workflow command.
const hostileService = `\u001b]0;pwned\u0007\u001b[2J\n::error::pwned`

// hostileJSONL is a result file whose names attack the reader's
// terminal and CI: escape sequences, BEL, CR and LF, a bidi override,
// C1 controls, a legacy "##[" command, invalid UTF-8 (which JSON
// decoding turns into U+FFFD) and a hostname that is a workflow command.
const hostileJSONL = `{"type":"scan","scanner":"portscan","scan_type":"connect","protocols":["tcp"],"ports":"T:1-1024,8080,24554"}
{"type":"port","host":"127.0.0.1","hostname":"::error::host\r\n::warning::x\u202etxt.exe","port":80,"protocol":"tcp","state":"open","reason":"syn-ack\u001b[8m","service":"` + hostileService + `","description":"\u0007\u009b31m","description_en":"\u001b]8;;http://x\u001b\\link","source":"scan"}
{"type":"port","host":"127.0.0.1","port":8080,"protocol":"tcp","state":"open","reason":"syn-ack","service":"x ##[error]legacy \u2066\u2069","source":"scan"}
{"type":"host","host":"127.0.0.1","hostname":"::error::host\r\n::warning::x\u202etxt.exe","up":true,"reason":"syn-ack","source":"scan"}
{"type":"port","host":"127.0.0.2","hostname":"` + "\xff\xfe" + `\u0085::notice::n","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"a|b` + "`" + `c<img>\u0008","source":"scan"}
{"type":"host","host":"127.0.0.2","up":true,"reason":"syn-ack","source":"scan"}
`

// hostileXML is nmap XML with what XML can carry: LF, CR, C1 controls
// and bidi overrides, in host and service names and product fields.
const hostileXML = `<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.94">
<scaninfo type="connect" protocol="tcp" numservices="2" services="80,8080"/>
<host><status state="up" reason="syn-ack"/><address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="::error::x&#10;::error::y&#x202e;" type="user"/></hostnames>
<ports><port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="h&#xd;&#xa;::warning::&#x9b;2J" product="&#x85;&#x202e;evil" method="table" conf="3"/></port></ports>
</host>
</nmaprun>
`

// hostilePolicy names its groups and describes them with the same
// tricks, in YAML escapes.
const hostilePolicy = `groups:
  - name: "::warning::group\e]0;pwned\a\n::error::g\u202e"
    description: "\e[2J\r\n::error::described"
    targets: [127.0.0.1]
    allow: [ssh]
    require: [https]
  - name: "b|c` + "`" + `<\x9b"
    description: "\u2066"
    targets: [127.0.0.2]
    deny: [ssh]
`

const benignJSONL = `{"type":"scan","scanner":"portscan","scan_type":"connect","protocols":["tcp"],"ports":"T:1-1024,8080,24554"}
{"type":"host","host":"127.0.0.1","up":true,"reason":"syn-ack","source":"scan"}
{"type":"port","host":"127.0.0.1","port":8080,"protocol":"tcp","state":"open","reason":"syn-ack","service":"http-alt","source":"scan"}
`

// annotation is a workflow command portscan means to write: its name,
// then properties without a raw colon, then "::".
var annotation = regexp.MustCompile(`^::(error|warning)( [^:]*)?::`)

// checkSafe fails the test if out could act on a terminal or a CI
// runner: a raw control character other than the newlines between
// lines, a C1 control, a bidi or other format character, invalid UTF-8,
// a line that starts (after white space, as the runner trims it) with
// "::" but is not one of portscan's annotations (allowed only when
// annotations is set), or "##[" anywhere.
func checkSafe(t *testing.T, what, out string, annotations bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: invalid UTF-8:\n%q", what, out)
	}
	for i, r := range out {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r >= 0x7f && r < 0xa0 || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Errorf("%s: raw %U at byte %d:\n%q", what, r, i, out)
			return
		}
	}
	if strings.Contains(out, "##[") {
		t.Errorf("%s: a legacy workflow command:\n%s", what, out)
	}
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if !strings.HasPrefix(trimmed, "::") {
			continue
		}
		if !annotations || trimmed != line || !annotation.MatchString(line) {
			t.Errorf("%s: a line data could make a workflow command:\n%s", what, line)
		}
	}
}

// TestHostileDiff diffs hostile result files in every direction.
func TestHostileDiff(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	dir := t.TempDir()
	hostile := writeFile(t, dir, "hostile.jsonl", hostileJSONL)
	xml := writeFile(t, dir, "hostile.xml", hostileXML)
	benign := writeFile(t, dir, "benign.jsonl", benignJSONL)
	for _, c := range []struct {
		name string
		args []string
		want []string // escaped, in stdout
	}{
		{"appeared", []string{"diff", benign, hostile}, []string{`\x1b]0;pwned\a\x1b[2J\n::error::pwned`, `::error::host\r\n::warning::x\u202etxt.exe (127.0.0.1)`}},
		{"gone", []string{"diff", hostile, benign}, []string{"\ufffd\ufffd" + `\u0085::notice::n (127.0.0.2)`}},
		{"labels", []string{"diff", "--labels", hostile, benign}, []string{`service x ##\x5berror]legacy \u2066\u2069 -> http-alt`}},
		{"nmap xml", []string{"diff", xml, benign}, []string{`::error::x\n::error::y\u202e (127.0.0.1) 80/tcp no longer open (h\r\n::warning::\u009b2J)`}},
		{"same file", []string{"diff", hostile, hostile}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, c.args...)
			if code != exitOK && code != exitFail {
				t.Fatalf("exit %d: %s", code, errs)
			}
			checkSafe(t, "stdout", out, false)
			checkSafe(t, "stderr", errs, false)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %s:\n%s", w, out)
				}
			}
		})
	}
}

// TestHostileAudit judges a hostile result file by a hostile policy, as
// a GitHub Actions job would, and compares it with a baseline.
func TestHostileAudit(t *testing.T) {
	dir := t.TempDir()
	hostile := writeFile(t, dir, "hostile.jsonl", hostileJSONL)
	benign := writeFile(t, dir, "benign.jsonl", benignJSONL)
	policy := writeFile(t, dir, "policy.yaml", hostilePolicy)
	summary := writeFile(t, dir, "summary.md", "")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"from", []string{"audit", "--policy", policy, "--from", hostile}},
		{"baseline", []string{"audit", "--policy", policy, "--from", benign, "--baseline", hostile}},
		{"colour", []string{"--color", "always", "audit", "--policy", policy, "--from", hostile, "--baseline", benign}},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(summary, nil, 0o644)
			out, errs, code := runCLI(t, c.args...)
			if code != exitFail {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if c.name == "colour" {
				// Our own colour codes are the only escapes: take them out.
				out = regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, "")
			}
			checkSafe(t, "stdout", out, true)
			checkSafe(t, "stderr", errs, false)
			if !strings.Contains(out, "::error file=") {
				t.Errorf("no annotations:\n%s", out)
			}
			for _, w := range []string{`Group ::warning::group\x1b]0;pwned\a\n::error::g\u202e:`, `host ::error::host\r\n::warning::x\u202etxt.exe (127.0.0.1)`} {
				if c.name == "from" && !strings.Contains(out, w) {
					t.Errorf("stdout lacks %s:\n%s", w, out)
				}
			}
			md, _ := os.ReadFile(summary)
			checkSafe(t, "step summary", string(md), false)
			for _, line := range strings.Split(string(md), "\n") {
				if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 6 {
					t.Errorf("step summary: a table row with a cell broken by data:\n%s", line)
				}
				if strings.Contains(line, "<img") || strings.Count(strings.ReplaceAll(line, "\\`", ""), "`")%2 != 0 {
					t.Errorf("step summary: Markdown or HTML from data:\n%s", line)
				}
			}
		})
	}
}

type hostileBaselineData struct{ Baseline string }

// TestHostileBaselineLab scans a loopback listener inside a namespace of
// its own and compares the scan with a hostile baseline file: the
// differences on stderr are escaped.
func TestHostileBaselineLab(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "escape")
		ns.Reexec(t, hostileBaselineData{writeFile(t, t.TempDir(), "hostile.jsonl", hostileJSONL)})
		return
	}
	var d hostileBaselineData
	lab.ChildData(t, &d)
	l, err := net.Listen("tcp", "127.0.0.1:24554")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("GITHUB_ACTIONS", "true")
	out, errs, code := runCLI(t, "-p", "80,8080,24554", "-Pn", "--baseline", d.Baseline, "127.0.0.1", "127.0.0.2")
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkSafe(t, "stdout", out, false)
	checkSafe(t, "stderr", errs, false)
	for _, w := range []string{
		`- ::error::host\r\n::warning::x\u202etxt.exe (127.0.0.1) 80/tcp no longer open (\x1b]0;pwned\a\x1b[2J\n::error::pwned), now closed`,
		`+ ::error::host\r\n::warning::x\u202etxt.exe (127.0.0.1) 24554/tcp newly open (binkp)`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %s:\n%s", w, errs)
		}
	}
}

// TestHostileFileNames gives the commands file names that carry escape
// sequences and line breaks: the lines on stderr that name them show
// them escaped.
func TestHostileFileNames(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(pcapDir, "truncated.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	evil := filepath.Join(dir, "a\x1b[2J\n::error::x.pcap")
	if err := os.WriteFile(evil, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"pcap", "-q", evil},
		{"pcap", "-q", evil + "\u202e-missing"},
		{"diff", evil, evil + "\a"},
		{"--color", "\x1b[31m", "services"},
		{"-sS=\x1b[2J", "127.0.0.1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, args...)
			if code == exitOK || !strings.HasPrefix(errs, "portscan: ") {
				t.Errorf("exit %d, stderr %q", code, errs)
			}
			checkSafe(t, "stdout", out, false)
			checkSafe(t, "stderr", errs, false)
		})
	}
}
