package scale

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// workflow is what the tests read of a GitHub Actions workflow.
type workflow struct {
	Env  map[string]any `json:"env"`
	Jobs map[string]struct {
		Needs    any `json:"needs"`
		Strategy struct {
			FailFast *bool `json:"fail-fast"`
			Matrix   struct {
				Index []int `json:"index"`
			} `json:"matrix"`
		} `json:"strategy"`
		Steps []step `json:"steps"`
	} `json:"jobs"`
}

type step struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Uses string         `json:"uses"`
	Run  string         `json:"run"`
	With map[string]any `json:"with"`
}

var expr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces ${{ matrix.index }} with k; any other expression is an
// error, but in the with: of steps the test does not run (caches).
func expand(s string, k int) (string, error) {
	var err error
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		if e := expr.FindStringSubmatch(m)[1]; e == "matrix.index" {
			return strconv.Itoa(k)
		}
		err = fmt.Errorf("%q: an expression the test does not expand", m)
		return m
	})
	return out, err
}

// ghWorkflow reads github-actions.yml and returns it with the names of
// its shard job and its merge job, and the number of shards.
func ghWorkflow(t testing.TB) (w workflow, scan, merge string, shards int) {
	t.Helper()
	data, err := os.ReadFile("github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	// Numbers as written: SEED is no float.
	useNumber := func(d *json.Decoder) *json.Decoder { d.UseNumber(); return d }
	if err := yaml.Unmarshal(data, &w, useNumber); err != nil {
		t.Fatalf("github-actions.yml: %v", err)
	}
	for name, j := range w.Jobs {
		if len(j.Strategy.Matrix.Index) > 0 {
			scan = name
		}
	}
	for name, j := range w.Jobs {
		if fmt.Sprint(j.Needs) == scan || fmt.Sprint(j.Needs) == "["+scan+"]" {
			merge = name
		}
	}
	if scan == "" || merge == "" {
		t.Fatalf("github-actions.yml: want a job with a matrix of index and one that needs it (jobs %v)", w.Jobs)
	}
	idx := w.Jobs[scan].Strategy.Matrix.Index
	shards, err = strconv.Atoi(fmt.Sprint(w.Env["SHARDS"]))
	if err != nil || shards != len(idx) {
		t.Errorf("env SHARDS %v, want the matrix's %d indexes", w.Env["SHARDS"], len(idx))
	}
	for k, i := range idx {
		if i != k {
			t.Errorf("matrix index %v, want 0 to %d", idx, len(idx)-1)
			break
		}
	}
	if ff := w.Jobs[scan].Strategy.FailFast; ff == nil || *ff {
		t.Errorf("%s: fail-fast is not false: one failing shard would cancel the others", scan)
	}
	return w, scan, merge, len(idx)
}

// TestGitHubWorkflow runs github-actions.yml's jobs as a runner would,
// each job in a workspace of its own (a checkout holding targets.txt,
// the lab's, and portscan-policy.yaml, a policy the lab meets), with the
// artifacts copied between them as upload-artifact and
// download-artifact do. The steps that set up the runner (checkout, Go,
// go install, the cache) are left out; portscan is the binary built
// here. The shard step's script runs once dry, so that its command lines
// are checked before any is run; the merged report must say what a
// single run of the same scan says, and the audit must pass.
func TestGitHubWorkflow(t *testing.T) {
	w, scanJob, mergeJob, shards := ghWorkflow(t)
	requireLab(t)
	bin := portscanBin(t)
	requireMerge(t, bin)
	l := newLab(t)
	st := newStand(t, bin)
	artifacts := openDir(t, false)
	env := []string{"PATH=" + st.dir + ":/usr/bin:/bin", "GITHUB_ACTIONS=true"}
	for k, v := range w.Env {
		env = append(env, k+"="+fmt.Sprint(v))
	}

	// runJob runs a job's steps for index k in a new workspace.
	runJob := func(job string, k int, dry bool) string {
		ws := openDir(t, false)
		for name, content := range map[string]string{"targets.txt": labTargets, "portscan-policy.yaml": labPolicy} {
			if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		jenv := append(env, "GITHUB_OUTPUT="+filepath.Join(ws, ".output"), "GITHUB_STEP_SUMMARY="+filepath.Join(ws, ".summary"))
		if dry {
			jenv = append(jenv, "DRY=1")
		}
		for _, s := range w.Jobs[job].Steps {
			uses, _, _ := strings.Cut(s.Uses, "@")
			switch {
			case uses == "actions/checkout", uses == "actions/setup-go", uses == "actions/cache/restore", uses == "actions/cache/save":
			case s.Run != "" && strings.HasPrefix(s.Run, "go install github.com/portscan/portscan/cmd/portscan@"):
			case s.Run != "":
				script, err := expand(s.Run, k)
				if err != nil {
					t.Fatalf("%s: step %q: %v", job, s.Name, err)
				}
				code, out := runScript(t, l.scanner, ws, jenv, false, nil, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
				if code != 0 {
					t.Fatalf("%s %d: step %q: exit %d:\n%s", job, k, s.Name, code, out)
				}
			case dry:
			case uses == "actions/upload-artifact":
				name, err1 := expand(fmt.Sprint(s.With["name"]), k)
				files, err2 := expand(fmt.Sprint(s.With["path"]), k)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: step %q: with %v", job, s.Name, s.With)
				}
				if err := os.MkdirAll(filepath.Join(artifacts, name), 0o755); err != nil {
					t.Fatal(err)
				}
				for _, file := range strings.Fields(files) {
					copyFile(t, filepath.Join(ws, file), filepath.Join(artifacts, name, filepath.Base(file)))
				}
			case uses == "actions/download-artifact":
				pattern, dst := fmt.Sprint(s.With["pattern"]), filepath.Join(ws, fmt.Sprint(s.With["path"]))
				if fmt.Sprint(s.With["merge-multiple"]) != "true" {
					t.Fatalf("%s: step %q: want merge-multiple: true", job, s.Name)
				}
				if err := os.MkdirAll(dst, 0o755); err != nil {
					t.Fatal(err)
				}
				names, _ := os.ReadDir(artifacts)
				for _, a := range names {
					if ok, _ := path.Match(pattern, a.Name()); ok {
						files, _ := os.ReadDir(filepath.Join(artifacts, a.Name()))
						for _, f := range files {
							copyFile(t, filepath.Join(artifacts, a.Name(), f.Name()), filepath.Join(dst, f.Name()))
						}
					}
				}
			default:
				t.Fatalf("%s: step %q uses %s, which the test does not know", job, s.Name, s.Uses)
			}
		}
		return ws
	}

	var scans [][]string
	for k := range shards {
		ws := runJob(scanJob, k, true)
		scans = append(scans, checkCalls(t, st.calls(t), ws, filepath.Join(ws, "targets.txt"))...)
	}
	checkShards(t, scans, shards)
	if t.Failed() {
		t.FailNow()
	}
	var ws0 string
	for k := range shards {
		ws := runJob(scanJob, k, false)
		if k == 0 {
			ws0 = ws
		}
	}
	ws := runJob(mergeJob, 0, false)
	checkCalls(t, st.calls(t), ws, filepath.Join(ws, "targets.txt"))
	if _, err := os.Stat(filepath.Join(ws, "portscan-junit.xml")); err != nil {
		t.Errorf("the audit wrote no JUnit report: %v", err)
	}

	whole := filepath.Join(ws0, "whole.jsonl")
	singleArgs, err := unsharded(scans[0], whole)
	if err != nil {
		t.Fatal(err)
	}
	cmd := l.scanner.command(bin, singleArgs...)
	cmd.Dir = ws0
	if code, msg := exitCode(t, cmd); code != 0 {
		t.Fatalf("single run %q: exit %d:\n%s", singleArgs, code, msg)
	}
	want := readReport(t, whole)
	checkLabReport(t, want, true) // a runner scanning as root
	for _, name := range []string{"report.jsonl", "report.xml"} {
		if d := want.diff(readReport(t, filepath.Join(ws, name))); d != "" {
			t.Errorf("%s differs from a single run of the scan:\n%s", name, d)
		}
	}
}

// labPolicy is a policy the lab meets: what each host has open.
const labPolicy = `version: 1
groups:
  - name: web
    targets: 198.18.0.1
    allow: [ssh, http]
  - name: mail
    targets: 198.18.0.2
    allow: [smtp, https]
  - name: db
    targets: 198.18.0.4
    allow: [ssh]
  - name: closed
    targets: 198.18.0.5-8
`

// TestGitHubWorkflowShape checks the parts of github-actions.yml that
// the lab test does not run: the shard's state kept in the cache per
// attempt, so that a re-run resumes, and the part uploaded.
func TestGitHubWorkflowShape(t *testing.T) {
	w, scanJob, _, _ := ghWorkflow(t)
	var restore, save, shard string
	for _, s := range w.Jobs[scanJob].Steps {
		uses, _, _ := strings.Cut(s.Uses, "@")
		switch {
		case uses == "actions/cache/restore":
			restore = fmt.Sprint(s.With["path"]) + " " + fmt.Sprint(s.With["restore-keys"])
		case uses == "actions/cache/save":
			save = fmt.Sprint(s.With["path"]) + " " + fmt.Sprint(s.With["key"])
		case s.ID == "shard":
			shard = s.Run
		}
	}
	if shard == "" {
		t.Fatal("no step with id shard")
	}
	for _, want := range []string{"--resume portscan-out/", "-o portscan-out/"} {
		if !strings.Contains(shard, want) {
			t.Errorf("shard step lacks %q: the state and part must be in the cached directory", want)
		}
	}
	if !strings.HasPrefix(restore, "portscan-out ") || !strings.Contains(restore, "${{ matrix.index }}") {
		t.Errorf("cache restore %q: want portscan-out, keyed by the index", restore)
	}
	if !strings.HasPrefix(save, "portscan-out ") || !strings.Contains(save, "${{ github.run_attempt }}") {
		t.Errorf("cache save %q: want portscan-out, a key per attempt (a key is written once)", save)
	}
}
