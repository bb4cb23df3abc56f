package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// labScan is the scan section of the lab policies: the LAN lab's ports
// and a few closed ones, with timeouts for a veth.
const labScan = `scan:
  ports: [22, 23, 25, 80, 110, 143, 443, 3306, 8080]
  max-rtt-timeout: 300ms
  skip-discovery: true
`

// labGroups fit the LAN lab exactly (see lab.LAN).
const labGroups = `groups:
  - name: web
    targets: [198.18.0.1]
    allow: [ssh, http]
    require: [https]
    deny: [telnet]
  - name: bastion
    targets: 198.18.0.2
    require: [ssh]
  - name: app
    targets: 198.18.0.3
    require: [http, 8080]
  - name: db
    targets: 198.18.0.4
    allow: [ssh]
    require: [mysql]
  - name: mail
    targets: 198.18.0.5
    require: [smtp, pop3, imap]
`

type auditLabData struct{ Dir string }

// TestAuditLab runs audits of the LAN lab from its scanner namespace: a
// policy that passes, and ones violated by an extra open port, a
// missing required port and a deny-listed port.
func TestAuditLab(t *testing.T) {
	if !lab.InChild() {
		l := lab.NewLAN(t)
		l.Scanner.Reexec(t, auditLabData{Dir: t.TempDir()})
		return
	}
	var d auditLabData
	lab.ChildData(t, &d)
	for _, c := range []struct {
		name, policy string
		code         int
		want         []string
	}{
		{"passes", labScan + labGroups, 0, []string{"198.18.0.1  ok", "198.18.0.5  ok", "PASS: 0 violations, 0 warnings, 14 checks passed"}},
		{"extra open port", labScan + strings.Replace(labGroups, "allow: [ssh, http]", "allow: [ssh]", 1), 1,
			[]string{`FAIL  other                1 port open but not allowed in group "web": 80/tcp (http)`}},
		{"missing required port", labScan + strings.Replace(labGroups, "require: [mysql]", "require: [mysql, postgres]", 1), 1,
			[]string{`FAIL  require postgres     required port "postgres" not open: 5432/tcp closed (postgres)`}},
		{"deny-listed port", labScan + strings.Replace(labGroups, "require: [mysql]", "deny: [mysql]", 1), 1,
			[]string{`FAIL  deny mysql           denied port "mysql" open: 3306/tcp (mysql)`, "1 violation"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			policy := writeFile(t, d.Dir, "policy.yaml", c.policy)
			junit, sarif := filepath.Join(d.Dir, "junit.xml"), filepath.Join(d.Dir, "audit.sarif")
			out, errs, code := runCLI(t, "audit", "-q", "--policy", policy, "--junit", junit, "--sarif", sarif)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q\n%s", code, c.code, errs, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			validateReports(t, junit, sarif)
		})
	}
}

type diffLabData struct{ Dir, Step string }

// TestDiffLab scans the LAN lab twice, with a listener stopped and
// another started in between, and diffs the two runs; the second scan
// also compares itself with the first through --baseline.
func TestDiffLab(t *testing.T) {
	if lab.InChild() {
		var d diffLabData
		lab.ChildData(t, &d)
		t.Run(d.Step, func(t *testing.T) {
			args := []string{"-q", "-p", "22,80,8080,9000,9001", "-Pn", "--max-rtt-timeout", "300ms", "--format", "jsonl",
				"-o", filepath.Join(d.Dir, d.Step+".jsonl"), "198.18.0.1-5"}
			want := 0
			if d.Step == "after" {
				args = append(args, "--baseline", filepath.Join(d.Dir, "before.jsonl"))
				want = exitFail
			}
			_, errs, code := runCLI(t, args...)
			if code != want {
				t.Fatalf("exit %d, want %d: %s", code, want, errs)
			}
			if d.Step == "after" && !strings.Contains(errs, "- 198.18.0.2 9000/tcp no longer open") {
				t.Errorf("stderr:\n%s", errs)
			}
		})
		return
	}
	l := lab.NewLAN(t)
	dir := t.TempDir()
	stopped := l.Hosts.Listen("tcp", "198.18.0.2:9000")
	t.Run("before", func(t *testing.T) { l.Scanner.Reexec(t, diffLabData{dir, "before"}) })
	stopped.Close()
	l.Hosts.Listen("tcp", "198.18.0.3:9001")
	t.Run("after", func(t *testing.T) { l.Scanner.Reexec(t, diffLabData{dir, "after"}) })
	if t.Failed() {
		return
	}
	before, after := filepath.Join(dir, "before.jsonl"), filepath.Join(dir, "after.jsonl")
	out, errs, code := runCLI(t, "diff", before, after)
	want := "Differences from " + before + " to " + after + ":\n" +
		"  - 198.18.0.2 9000/tcp no longer open (cslistener), now closed\n" +
		"  + 198.18.0.3 9001/tcp newly open, was closed\n" +
		"2 differences: 1 port opened, 1 port closed.\n"
	if code != exitFail || out != want {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errs, out, want)
	}
}
