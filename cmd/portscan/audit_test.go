package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// writeFile writes text to name in dir and returns the path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// labResults is a jsonl run of the LAN lab's hosts as a scan of
// 1-1024,3306,8080 sees them.
const labResults = `{"type":"scan","scanner":"portscan","version":"0.1.0","args":[],"scan_type":"connect","protocols":["tcp"],"ports":"T:1-1024,3306,8080","num_ports":1026}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","source":"scan"}
{"type":"port","host":"198.18.0.1","port":80,"protocol":"tcp","state":"open","reason":"syn-ack","service":"http","source":"scan"}
{"type":"port","host":"198.18.0.1","port":443,"protocol":"tcp","state":"open","reason":"syn-ack","service":"https","source":"scan"}
{"type":"host","host":"198.18.0.1","up":true,"reason":"syn-ack","source":"scan"}
{"type":"port","host":"198.18.0.4","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","source":"scan"}
{"type":"port","host":"198.18.0.4","port":3306,"protocol":"tcp","state":"open","reason":"syn-ack","service":"mysql","source":"scan"}
{"type":"host","host":"198.18.0.4","up":true,"reason":"syn-ack","source":"scan"}
{"type":"summary","hosts":2,"hosts_up":2,"hosts_down":0,"open":5,"interrupted":false}
`

const labPolicy = `groups:
  - name: web
    targets: [198.18.0.1]
    allow: [ssh, http]
    require: [https]
    deny: [telnet]
  - name: db
    targets: [198.18.0.4]
    allow: [ssh]
    require: [mysql]
`

func TestAuditUsageErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", labPolicy)
	bad := writeFile(t, dir, "bad.yaml", "groups:\n  - name: web\n    targets: [127.0.0.1]\n    allwo: [ssh]\n")
	results := writeFile(t, dir, "r.jsonl", labResults)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no policy", []string{"audit"}, "portscan: audit: --policy FILE is required\n"},
		{"bad policy", []string{"audit", "--policy", bad},
			"portscan: " + bad + `:4:5: unknown key "allwo" in group "web"; expected one of name, description, targets, exclude, allow, require, deny, other, services, deny_services, tls` + "\n"},
		{"missing policy", []string{"audit", "--policy", filepath.Join(dir, "none.yaml")}, "no such file"},
		{"argument", []string{"audit", "--policy", good, "127.0.0.1"}, "audit takes no arguments"},
		{"format", []string{"audit", "--policy", good, "--from", results, "--format", "xml"}, `invalid --format "xml": want text, json or html`},
		{"missing from", []string{"audit", "--policy", good, "--from", filepath.Join(dir, "none.jsonl")}, "--from: open"},
		{"bad from", []string{"audit", "--policy", good, "--from", good}, `--from: ` + good + `:1:1: unexpected 'g'`},
		{"bad baseline", []string{"audit", "--policy", good, "--from", results, "--baseline", bad}, "--baseline: " + bad + ":1:1"},
		{"save with from", []string{"audit", "--policy", good, "--from", results, "--save", filepath.Join(dir, "x")}, "--save keeps a scan's results"},
		{"bad setting", []string{"audit", "--policy", writeFile(t, dir, "s.yaml", "scan:\n  ports: U:53\n"+labPolicy)}, "no ports left to scan"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, c.args...)
			if code != exitUsage || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and %q on one line (stdout %q)", code, errs, c.want, out)
			}
		})
	}
}

// TestAuditBadPolicySendsNothing checks that a malformed policy is
// refused before a single probe: nothing connects to the listener.
func TestAuditBadPolicySendsNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	policy := writeFile(t, t.TempDir(), "p.yaml", "scan:\n  ports: "+port+"\ngroups:\n  - name: lo\n    targets: 127.0.0.1\n    require: ["+port+"]\n    deny: [1-65535]\n")
	_, errs, code := runCLI(t, "audit", "--policy", policy)
	if code != exitUsage || !strings.Contains(errs, "is both required") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections before the policy was refused", n)
	}
}

func TestAuditFrom(t *testing.T) {
	dir := t.TempDir()
	results := writeFile(t, dir, "r.jsonl", labResults)
	pass := writeFile(t, dir, "pass.yaml", labPolicy)
	for _, c := range []struct {
		name, policy string
		code         int
		want         []string
	}{
		{"passes", labPolicy, 0, []string{"Group web: 1 host, 0 violations, 0 warnings", "198.18.0.1  ok", "PASS: 0 violations"}},
		{"extra open port", strings.Replace(labPolicy, "allow: [ssh, http]", "allow: [ssh]", 1), 1,
			[]string{`FAIL  other                1 port open but not allowed in group "web": 80/tcp (http)`}},
		{"missing required port", strings.Replace(labPolicy, "require: [https]", "require: [https, 8443]", 1), 1,
			[]string{`FAIL  require 8443         required port "8443" not open: 8443/tcp not scanned`}},
		{"denied port", strings.Replace(labPolicy, "require: [mysql]", "deny: [mysql]", 1), 1,
			[]string{`FAIL  deny mysql           denied port "mysql" open: 3306/tcp (mysql)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			policy := writeFile(t, dir, "p.yaml", c.policy)
			out, errs, code := runCLI(t, "audit", "--policy", policy, "--from", results)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			if c.code == 1 && !strings.HasPrefix(errs, "portscan: audit failed: ") {
				t.Errorf("stderr %q", errs)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		out, _, code := runCLI(t, "audit", "--policy", pass, "--from", results, "--format", "json")
		var rep struct {
			Source string         `json:"source"`
			Counts map[string]int `json:"counts"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Counts["pass"] != 5 || rep.Source != results {
			t.Errorf("exit %d, report %+v:\n%s", code, rep, out)
		}
	})
}

// validateReports checks a JUnit file against the audit package's XSD
// and a SARIF file against its SARIF 2.1.0 schema.
func validateReports(t *testing.T, junit, sarif string) {
	t.Helper()
	schemas := filepath.Join("..", "..", "audit", "testdata")
	if xmllint, err := exec.LookPath("xmllint"); err != nil {
		t.Log("xmllint not installed: JUnit XML not validated")
	} else if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join(schemas, "junit.xsd"), junit).CombinedOutput(); err != nil {
		t.Errorf("%s does not validate: %v\n%s", junit, err, out)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join(schemas, "sarif-2.1.0-portscan.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(sarif)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", sarif, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s does not validate: %v", sarif, err)
	}
}

func TestAuditReportsAndGitHub(t *testing.T) {
	dir := t.TempDir()
	results := writeFile(t, dir, "r.jsonl", labResults)
	policy := writeFile(t, dir, "policy.yaml", strings.Replace(labPolicy, "require: [mysql]", "deny: [mysql]\n    other: warn", 1))
	summary := writeFile(t, dir, "summary.md", "# earlier step\n")
	junit, sarif := filepath.Join(dir, "audit.xml"), filepath.Join(dir, "audit.sarif")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	out, errs, code := runCLI(t, "audit", "--policy", policy, "--from", results, "--junit", junit, "--sarif", sarif, "-o", filepath.Join(dir, "report.txt"))
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "::error file=" + policy + ",line=10,col=12,title=portscan audit%3A db deny mysql::198.18.0.4: denied port \"mysql\" open: 3306/tcp (mysql)\n"
	if out != want {
		t.Errorf("annotations:\n%s\nwant:\n%s", out, want)
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "# earlier step\n## portscan audit: ❌ fail\n") || !strings.Contains(string(md), "| db | 198.18.0.4 | deny mysql | ❌ fail |") {
		t.Errorf("step summary:\n%s", md)
	}
	validateReports(t, junit, sarif)
	x, _ := os.ReadFile(junit)
	if !bytes.Contains(x, []byte(`<testcase name="198.18.0.4 deny mysql" classname="portscan.audit.db"`)) || !bytes.Contains(x, []byte(`failures="1"`)) {
		t.Errorf("junit:\n%s", x)
	}
}

func TestAuditPcap(t *testing.T) {
	capture := filepath.Join("..", "..", "testdata", "pcaps", "lab-lo.pcap")
	dir := t.TempDir()
	policy := writeFile(t, dir, "p.yaml", `groups:
  - name: lab
    targets: 127.0.0.0/8
    allow: [ssh]
    require: [http, domain/udp]
    deny: [telnet, snmp/udp]
`)
	out, errs, code := runCLI(t, "audit", "--policy", policy, "--from", capture)
	if code != 0 || !strings.Contains(out, "127.0.0.2  ok") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	// 23/tcp and 161/udp were closed in the capture; 80 and 53/udp open.
	strict := writeFile(t, dir, "s.yaml", "groups:\n  - name: lab\n    targets: 127.0.0.2\n    require: [telnet]\n    deny: [domain/udp]\n    other: warn\n")
	out, _, code = runCLI(t, "audit", "--policy", strict, "--from", capture)
	for _, w := range []string{`required port "telnet" not open: 23/tcp closed (telnet)`, `denied port "domain/udp" open: 53/udp (domain)`, "WARN  other"} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	if code != exitFail {
		t.Errorf("exit %d", code)
	}
}

func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.jsonl", labResults)
	changed := strings.Replace(labResults, `"port":80,"protocol":"tcp","state":"open"`, `"port":8080,"protocol":"tcp","state":"open"`, 1)
	cur := writeFile(t, dir, "new.jsonl", changed)
	out, errs, code := runCLI(t, "diff", old, cur)
	want := "Differences from " + old + " to " + cur + ":\n  - 198.18.0.1 80/tcp no longer open (http), now not listed\n  + 198.18.0.1 8080/tcp newly open (http), was not listed\n2 differences: 1 port opened, 1 port closed.\n"
	if code != exitFail || out != want || errs != "" {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errs, out, want)
	}
	if out, _, code := runCLI(t, "diff", "--format", "json", old, old); code != 0 || !strings.Contains(out, `"changes": []`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{"diff", old}, {"diff", old, filepath.Join(dir, "none")}, {"diff", "--format", "csv", old, cur}} {
		if _, errs, code := runCLI(t, args...); code != exitUsage || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	// nmap's XML against portscan's jsonl.
	nmap := filepath.Join("..", "..", "baseline", "testdata", "nmap.xml")
	if out, _, code := runCLI(t, "diff", nmap, old); code != exitFail || !strings.Contains(out, "web1.lab (198.18.0.1) 3306/tcp no longer open") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestScanBaselineLoopback scans a loopback listener with --baseline.
func TestScanBaselineLoopback(t *testing.T) {
	port, name := listenCatalogPort(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "last.jsonl")
	p := strconv.Itoa(port)
	if _, errs, code := runCLI(t, "-p", p, "-Pn", "--format", "jsonl", "-o", saved, "127.0.0.1"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Same ports: no difference, and -o may overwrite the baseline.
	if _, errs, code := runCLI(t, "-p", p, "-Pn", "--format", "jsonl", "-o", saved, "--baseline", saved, "127.0.0.1"); code != 0 || !strings.Contains(errs, "No differences.") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	empty := writeFile(t, dir, "empty.jsonl", `{"type":"scan","scanner":"portscan","protocols":["tcp"],"ports":"`+p+`"}`+"\n")
	_, errs, code := runCLI(t, "-p", p, "-Pn", "--baseline", empty, "127.0.0.1")
	if code != exitFail || !strings.Contains(errs, "+ host 127.0.0.1 appeared (open: "+p+"/tcp "+name+")") ||
		!strings.Contains(errs, "portscan: 1 difference: 1 host appeared from the baseline") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestDiffNmapGolden diffs nmap's XML (baseline/testdata/nmap.xml) with
// portscan's jsonl of the same host both ways: states by default, where
// a port no longer listed is called what the other run's counts make it
// (closed), and the catalogs' labels only with --labels.
func TestDiffNmapGolden(t *testing.T) {
	chdir(t, "testdata")
	nmap := filepath.Join("..", "..", "..", "baseline", "testdata", "nmap.xml")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"diff-nmap.txt", []string{"diff", nmap, "web1.jsonl"}},
		{"diff-nmap-labels.txt", []string{"diff", "--labels", nmap, "web1.jsonl"}},
		{"diff-nmap-reverse.txt", []string{"diff", "web1.jsonl", nmap}},
		{"diff-nmap.json", []string{"diff", "--format", "json", nmap, "web1.jsonl"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, c.args...)
			if code != exitFail || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden(t, c.name, out)
		})
	}
}
