package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/resume"
)

// TestResumeRefusals gives --resume what it must refuse, each with a
// one-line error and exit status 2, and a finished scan's state, which
// it must accept doing nothing.
func TestResumeRefusals(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "st.json")
	out := filepath.Join(dir, "out.jsonl")
	scanArgs := []string{"-q", "-p", "1-10", "--format", "jsonl", "-o", out, "127.0.0.1"}
	if _, errs, code := runCLI(t, append([]string{"--resume", state}, scanArgs...)...); code != 0 {
		t.Fatalf("the first run: exit %d: %s", code, errs)
	}
	st, err := resume.ReadFile(state)
	if err != nil || st == nil || !st.Done || st.Progress.DoneThrough != 1 {
		t.Fatalf("the state of a finished scan: %+v, %v", st, err)
	}
	// The same state, not done: every host is, but the scan's end is
	// not written yet.
	undone := *st
	undone.Done = false
	undone.Outputs[0].Writer.Format = "jsonl"
	write := func(name string, st *resume.State) string {
		path := filepath.Join(dir, name)
		if err := resume.Write(path, st); err != nil {
			t.Fatal(err)
		}
		return path
	}
	notDone := write("undone.json", &undone)
	newer := write("newer.json", st)
	data, _ := os.ReadFile(newer)
	os.WriteFile(newer, []byte(strings.Replace(string(data), `"version": 2`, `"version": 9`, 1)), 0o600)
	truncated := filepath.Join(dir, "truncated.json")
	os.WriteFile(truncated, data[:len(data)/2], 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"done", []string{"--resume", state}, 0, "the scan finished at"},
		{"done, quiet", []string{"-q", "--resume", state}, 0, ""},
		{"done, with its arguments", append([]string{"--resume", state}, scanArgs...), 0, ""},
		{"another scan", []string{"--resume", state, "-p", "1-20", "-o", out, "--format", "jsonl", "127.0.0.1"}, 2,
			`is the state of another scan: ports: "T:1-10" in the state, "T:1-20" now`},
		{"another target", []string{"--resume", state, "-p", "1-10", "-o", out, "--format", "jsonl", "127.0.0.2"}, 2,
			`targets: "127.0.0.1" in the state, "127.0.0.2" now`},
		{"another listing", []string{"--resume", state, "-p", "1-10", "-o", out, "--format", "jsonl", "--show", "closed", "127.0.0.1"}, 2,
			`listed: "open,open|filtered" in the state, "open,closed,open|filtered" now`},
		{"newer version", []string{"--resume", newer}, 2, "format version 9, this portscan reads version 2"},
		{"truncated", []string{"--resume", truncated}, 2, "truncated"},
		{"no state", []string{"--resume", filepath.Join(dir, "none.json")}, 2, "no state in"},
		{"no targets", []string{"--resume", filepath.Join(dir, "none.json"), "-p", "1"}, 2, "no targets"},
		{"an output more", append([]string{"--resume", notDone, "--output-xml", filepath.Join(dir, "x.xml")}, scanArgs...), 2,
			"x.xml is not an output of the state's scan, which wrote --output " + out},
		{"an output less", []string{"--resume", notDone, "-q", "-p", "1-10", "127.0.0.1"}, 2, "leave out outputs of the state's scan"},
		{"baseline", append([]string{"--resume", filepath.Join(dir, "b.json"), "--baseline", out}, scanArgs...), 2, "--resume and --baseline exclude each other"},
		{"targets on stdin", []string{"--resume", filepath.Join(dir, "b.json"), "-p", "1", "-iL", "-"}, 2, "not standard input"},
		{"every 0", append([]string{"--resume", filepath.Join(dir, "b.json"), "--resume-every", "0s"}, scanArgs...), 2, "invalid --resume-every 0s"},
		{"state in no directory", append([]string{"--resume", filepath.Join(dir, "none", "st.json")}, scanArgs...), 2, "the state cannot be written there"},
		{"state is an output", []string{"--resume", out, "-p", "1", "-o", out, "127.0.0.1"}, 2, "--output and --resume both write to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, errs, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") > 1 || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and one line with %q", code, errs, stdout, tc.code, tc.want)
			}
		})
	}

	// The output shorter than the state says: changed since.
	os.Truncate(out, 10)
	if _, errs, code := runCLI(t, append([]string{"--resume", notDone}, scanArgs...)...); code != 2 || !strings.Contains(errs, "holds 10 bytes, the state says") {
		t.Errorf("a shorter output: exit %d, %q", code, errs)
	}
}

// TestResumeFinishes resumes a state whose hosts are all done but whose
// end was not written: nothing is probed again, the document is closed,
// and the state marked done.
func TestResumeFinishes(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "st.json")
	out := filepath.Join(dir, "out.json")
	args := []string{"-q", "-p", "1-10", "--format", "json", "-o", out, "--resume", state, "127.0.0.1", "127.0.0.2"}
	if _, errs, code := runCLI(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	whole, _ := os.ReadFile(out)
	st, _ := resume.ReadFile(state)
	// Cut the document where the second host's object ends, as a
	// checkpoint before the end would have.
	end := strings.LastIndex(string(whole), "\n  ],")
	st.Done = false
	st.Outputs[0].Offset = int64(end)
	st.Outputs[0].Writer.Hosts = 2
	sum := sha256.Sum256(whole[:min(end, resume.HeadSize)])
	st.Outputs[0].Head = hex.EncodeToString(sum[:])
	if err := resume.Write(state, st); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, append(whole[:end:end], "garbage"...), 0o644)
	if _, errs, code := runCLI(t, "--resume", state); code != 0 {
		t.Fatalf("resumed: exit %d: %s", code, errs)
	}
	var doc struct {
		Hosts []struct {
			Host   string
			Probes int
		}
		Summary struct {
			Hosts, Probes int
			Interrupted   bool
		}
	}
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the resumed document: %v\n%s", err, data)
	}
	if len(doc.Hosts) != 2 || doc.Summary.Hosts != 2 || doc.Summary.Probes != doc.Hosts[0].Probes+doc.Hosts[1].Probes || doc.Summary.Interrupted {
		t.Errorf("hosts %+v, summary %+v: want the two hosts once, and their probes", doc.Hosts, doc.Summary)
	}
	if st, _ := resume.ReadFile(state); st == nil || !st.Done {
		t.Errorf("the state is not done: %+v", st)
	}
}
