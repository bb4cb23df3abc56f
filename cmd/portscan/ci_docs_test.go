package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/parser"

	"github.com/portscan/portscan/internal/lab"
)

// ciDocs are the CI examples under docs/ci.
var ciDocs = []string{"github-actions.yml", "gitlab-ci.yml"}

const labTestMark = "# lab-test"

// labTestLines returns the shell lines of a CI file marked "# lab-test",
// in order, without the mark or a YAML list dash.
func labTestLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasSuffix(line, labTestMark) {
			continue
		}
		line = strings.TrimSpace(strings.TrimSuffix(line, labTestMark))
		out = append(out, strings.TrimPrefix(line, "- "))
	}
	if len(out) == 0 || !strings.Contains(strings.Join(out, "\n"), "portscan audit") {
		t.Fatalf("%s: no portscan audit line marked %q", path, labTestMark)
	}
	return out
}

// TestCIDocsParse checks that the CI examples are valid YAML with the
// parts the README promises.
func TestCIDocsParse(t *testing.T) {
	dir := filepath.Join("..", "..", "docs", "ci")
	for _, name := range append(ciDocs, "portscan-policy.yaml") {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.ParseBytes(data, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, want := range map[string][]string{
			"github-actions.yml": {"schedule:", "upload-sarif", "actions/cache/restore", "actions/cache/save", "--junit", "--sarif"},
			"gitlab-ci.yml":      {"$CI_PIPELINE_SOURCE == \"schedule\"", "reports:", "junit: portscan-junit.xml", "jobs/artifacts/"},
		}[name] {
			if !strings.Contains(string(data), want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
	if _, errs, code := runCLI(t, "audit", "--policy", filepath.Join(dir, "portscan-policy.yaml"), "--from", filepath.Join("..", "..", "baseline", "testdata", "nmap.xml")); code == exitUsage {
		t.Errorf("docs/ci/portscan-policy.yaml is refused: %s", errs)
	}
}

// TestCIDocsLab runs the marked lines of each CI example, as a shell
// script in the LAN lab's scanner namespace, twice: the first run passes
// and saves the baseline; before the second a listener starts on a host
// whose group allows no other port, so the second run has a violation
// and a difference from the baseline.
func TestCIDocsLab(t *testing.T) {
	lab.Require(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "portscan"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	policy, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci", "portscan-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ciDocs {
		t.Run(name, func(t *testing.T) {
			script := strings.Join(append([]string{"set -eu"}, labTestLines(t, filepath.Join("..", "..", "docs", "ci", name))...), "\n")
			l := lab.NewLAN(t)
			repo := t.TempDir()
			writeFile(t, repo, "portscan-policy.yaml", string(policy))
			ghOutput := writeFile(t, repo, "github-output", "")
			summary := writeFile(t, repo, "step-summary.md", "")
			run := func() (string, int) {
				cmd := l.Scanner.Command("bash", "-c", script)
				cmd.Dir = repo
				cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GITHUB_OUTPUT="+ghOutput)
				if name == "github-actions.yml" {
					cmd.Env = append(cmd.Env, "GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="+summary)
				} else {
					cmd.Env = append(cmd.Env, "GITHUB_ACTIONS=")
				}
				out, err := cmd.CombinedOutput()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return string(out), code
			}
			out, code := run()
			if code != 0 || !strings.Contains(out, "PASS: 0 violations") {
				t.Fatalf("first run: exit %d\n%s", code, out)
			}
			validateReports(t, filepath.Join(repo, "portscan-junit.xml"), filepath.Join(repo, "portscan.sarif"))
			if _, err := os.Stat(filepath.Join(repo, "portscan-baseline", "last.jsonl")); err != nil {
				t.Fatalf("no baseline saved: %v", err)
			}

			l.Hosts.Listen("tcp", "198.18.0.2:8080")
			out, code = run()
			for _, w := range []string{`1 port open but not allowed in group "bastion": 8080/tcp`, "+ 198.18.0.2 8080/tcp newly open"} {
				if !strings.Contains(out, w) {
					t.Errorf("second run lacks %q:\n%s", w, out)
				}
			}
			validateReports(t, filepath.Join(repo, "portscan-junit.xml"), filepath.Join(repo, "portscan.sarif"))
			switch name {
			case "github-actions.yml":
				status, _ := os.ReadFile(ghOutput)
				md, _ := os.ReadFile(summary)
				if code != 0 || string(status) != "status=0\nstatus=1\n" || !strings.Contains(out, "::error file=portscan-policy.yaml,line=16,") || !strings.Contains(string(md), "## portscan audit: ❌ fail") {
					t.Errorf("second run: exit %d, GITHUB_OUTPUT %q, summary:\n%s\noutput:\n%s", code, status, md, out)
				}
			default:
				if code != exitFail {
					t.Errorf("second run: exit %d, want 1:\n%s", code, out)
				}
			}
		})
	}
}
