package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gold "github.com/portscan/portscan/internal/golden"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// fakeRun builds a TCP scan of 1-1024 and 3306 from "addr port/proto:state" lines;
// a line with just an address is a host that is down.
func fakeRun(lines ...string) *baseline.Run {
	run := baseline.NewRun("scan")
	run.Protocols = []ports.Protocol{ports.TCP}
	run.Scanned, _ = ports.ParseSpec("1-1024,3306,8000-8100", ports.SpecOptions{})
	for _, l := range lines {
		f := strings.Fields(l)
		a := netip.MustParseAddr(f[0])
		if len(f) == 1 {
			run.AddHost(result.Host{Addr: a, Up: false, Reason: "no-response"})
			continue
		}
		for _, ps := range f[1:] {
			spec, state, _ := strings.Cut(ps, ":")
			set, err := ports.ParseSpec(spec, ports.SpecOptions{})
			if err != nil {
				panic(err)
			}
			st, _ := result.ParseState(state)
			for p := range set.Ports() {
				run.AddPort(result.Port{Host: a, Port: p, State: st, Service: catalog.Lookup(p)})
			}
		}
		run.AddHost(result.Host{Addr: a, Up: true, Reason: "syn-ack"})
	}
	return run
}

const webPolicy = `groups:
  - name: web
    targets: [198.18.0.1-5]
    allow: [ssh, http, 443/tcp, 8000-8100]
    require: [https]
    deny: [mysql, 23]
    other: deny
`

func judge(t *testing.T, policy string, run *baseline.Run) *Report {
	t.Helper()
	rep, err := Judge(context.Background(), mustParse(t, policy), run)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// outcome lists the checks that did not pass, as "host rule entry: status message".
func outcome(rep *Report) []string {
	var out []string
	for _, c := range rep.Checks() {
		if c.Status != Passed {
			out = append(out, c.Name()+": "+c.Status.String()+" "+c.Message)
		}
	}
	return out
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy string
		run    *baseline.Run
		want   []string
		failed bool
	}{
		{"passes", webPolicy, fakeRun("198.18.0.1 22,80,443:open", "198.18.0.2 443,8080:open 23:closed"), nil, false},
		{"extra open port", webPolicy, fakeRun("198.18.0.1 22,443,25:open"),
			[]string{`198.18.0.1 other: fail 1 port open but not allowed in group "web": 25/tcp (smtp)`}, true},
		{"missing required port", webPolicy, fakeRun("198.18.0.1 22:open 443:closed", "198.18.0.2 22:open"),
			[]string{
				`198.18.0.1 require https: fail required port "https" not open: 443/tcp closed (https)`,
				`198.18.0.2 require https: fail required port "https" not open: 443/tcp not open`,
			}, true},
		{"denied port", webPolicy, fakeRun("198.18.0.1 443,3306:open"),
			[]string{`198.18.0.1 deny mysql: fail denied port "mysql" open: 3306/tcp (mysql)`}, true},
		{"down host", webPolicy, fakeRun("198.18.0.3"),
			[]string{`198.18.0.3 require https: fail required port "https" not open: 443/tcp host down`}, true},
		{"other warn", strings.Replace(webPolicy, "other: deny", "other: warn", 1), fakeRun("198.18.0.1 443,25:open"),
			[]string{`198.18.0.1 other: warn 1 port open but not allowed in group "web": 25/tcp (smtp)`}, false},
		{"not scanned", webPolicy + "  - name: admin\n    targets: 198.18.0.1\n    allow: [https]\n    require: [9090]\n", fakeRun("198.18.0.1 443:open"),
			[]string{`198.18.0.1 require 9090: fail required port "9090" not open: 9090/tcp not scanned`}, true},
		{"outside every group", webPolicy, fakeRun("198.18.0.9 22:open"), nil, false},
		{"udp skipped", "groups:\n  - name: dns\n    targets: 198.18.0.1\n    require: [53/udp]\n    deny: [U:161]\n", fakeRun("198.18.0.1 22:open"),
			[]string{
				`198.18.0.1 require 53/udp: skip "53/udp" (U:53) not checked: no results for its protocol`,
				`198.18.0.1 deny U:161: skip "U:161" (U:161) not checked: no results for its protocol`,
				`198.18.0.1 other: fail 1 port open but not allowed in group "dns": 22/tcp (ssh)`,
			}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := judge(t, c.policy, c.run)
			got := outcome(rep)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("checks not passed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if rep.Failed() != c.failed {
				t.Errorf("Failed() = %v", rep.Failed())
			}
		})
	}
}

func TestJudgeOpenFiltered(t *testing.T) {
	run := fakeRun()
	run.Protocols = []ports.Protocol{ports.TCP, ports.UDP}
	run.Scanned.Union(func() *ports.Set { s, _ := ports.ParseSpec("U:53,161", ports.SpecOptions{}); return s }())
	a := netip.MustParseAddr("198.18.0.1")
	run.AddPort(result.Port{Host: a, Port: ports.Port{Number: 53, Proto: ports.UDP}, State: result.OpenFiltered})
	run.AddPort(result.Port{Host: a, Port: ports.Port{Number: 161, Proto: ports.UDP}, State: result.OpenFiltered})
	run.AddHost(result.Host{Addr: a, Up: true})
	rep := judge(t, "groups:\n  - name: dns\n    targets: 198.18.0.1\n    require: [53/udp]\n    deny: [U:161]\n", run)
	want := []string{
		`198.18.0.1 require 53/udp: warn require port "53/udp" may be open (no answer to UDP probes): 53/udp open|filtered`,
		`198.18.0.1 deny U:161: warn deny port "U:161" may be open (no answer to UDP probes): 161/udp open|filtered`,
	}
	if got := outcome(rep); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s", strings.Join(got, "\n"))
	}
}

// sampleReport has a failure of each kind, a warning, a skip and a
// baseline difference.
func sampleReport(t *testing.T) *Report {
	pol := webPolicy + "  - name: dns\n    targets: 198.18.0.1\n    require: [53/udp]\n    other: warn\n"
	run := fakeRun("198.18.0.1 22,3306,25:open", "198.18.0.2 443,8080:open", "198.18.0.3")
	rep := judge(t, pol, run)
	old := fakeRun("198.18.0.1 22,25:open", "198.18.0.2 443,8080:open", "198.18.0.3 22:open")
	old.Name = "last.jsonl"
	rep.Diff = baseline.Compare(old, run, baseline.CompareOptions{})
	rep.Version = "0.1.0"
	return rep
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	gold.Check(t, filepath.Join("testdata", "golden", name), got)
}

func TestWriters(t *testing.T) {
	rep := sampleReport(t)
	for _, c := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return rep.WriteText(b, false) }},
		{"report.json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"junit.xml", func(b *bytes.Buffer) error { return rep.WriteJUnit(b) }},
		{"report.sarif", func(b *bytes.Buffer) error { return rep.WriteSARIF(b) }},
		{"annotations.txt", func(b *bytes.Buffer) error { return rep.WriteGitHubAnnotations(b) }},
		{"summary.md", func(b *bytes.Buffer) error { return rep.WriteMarkdown(b) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
	var colour bytes.Buffer
	rep.WriteText(&colour, true)
	if !bytes.Contains(colour.Bytes(), []byte("\x1b[31mFAIL")) {
		t.Error("no red FAIL in colour text")
	}
}

// validateJUnit checks JUnit XML against testdata/junit.xsd with xmllint.
func validateJUnit(t *testing.T, doc []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils)")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	os.WriteFile(path, doc, 0o644)
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput()
	if err != nil {
		t.Errorf("JUnit XML does not validate: %v\n%s\n%s", err, out, doc)
	}
}

// validateSARIF checks a SARIF log against the SARIF 2.1.0 subset schema.
func validateSARIF(t *testing.T, doc []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("testdata/sarif-2.1.0-portscan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF does not validate: %v\n%s", err, doc)
	}
}

func TestJUnitValid(t *testing.T) {
	for name, rep := range map[string]*Report{"sample": sampleReport(t), "passing": judge(t, webPolicy, fakeRun("198.18.0.1 443:open")), "empty": judge(t, webPolicy, fakeRun())} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := rep.WriteJUnit(&b); err != nil {
				t.Fatal(err)
			}
			validateJUnit(t, b.Bytes())
		})
	}
	// The schema is strict: an element it does not know is refused.
	t.Run("schema rejects", func(t *testing.T) {
		if _, err := exec.LookPath("xmllint"); err != nil {
			t.Skip("no xmllint")
		}
		path := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(path, []byte(`<testsuites tests="1" failures="0" errors="0" skipped="0"><testsuite name="x" tests="-1" failures="0" errors="0" skipped="0" time="0"/></testsuites>`), 0o644)
		if err := exec.Command("xmllint", "--noout", "--schema", "testdata/junit.xsd", path).Run(); err == nil {
			t.Error("a negative count validates")
		}
	})
}

func TestSARIFValid(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := rep.WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, b.Bytes())
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						Region *struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	levels := map[string]int{}
	for _, r := range log.Runs[0].Results {
		levels[r.RuleID+"/"+r.Level]++
	}
	want := map[string]int{"denied-port-open/error": 1, "unexpected-port-open/error": 1, "required-port-missing/error": 2, "unexpected-port-open/warning": 1, "changed-since-baseline/error": 2}
	if len(levels) != len(want) {
		t.Errorf("results %v, want %v", levels, want)
	}
	for k, n := range want {
		if levels[k] != n {
			t.Errorf("results %v, want %v", levels, want)
			break
		}
	}
	// The schema is strict: something SARIF does not define is refused.
	c := jsonschema.NewCompiler()
	sch, _ := c.Compile("testdata/sarif-2.1.0-portscan.schema.json")
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`))
	if sch.Validate(bad) == nil {
		t.Error("level fatal validates")
	}
}
