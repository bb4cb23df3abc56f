package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// hangBound is how long a scan of the file-limit lab may take before it
// counts as hung; it is a hang check, not a timing assertion.
const hangBound = 60 * time.Second

// limitedRun is one run of portscan in its own process, under an
// open-file limit (soft and hard).
type limitedRun struct {
	stdout, stderr string
	code           int
}

// runLimited runs the binary inside ns with RLIMIT_NOFILE set to limit,
// soft and hard, and fails the test if it does not end within hangBound.
func runLimited(t *testing.T, ns *lab.Namespace, limit int, args ...string) limitedRun {
	t.Helper()
	cmd := ns.Command("sh", append([]string{"-c", `ulimit -n ` + strconv.Itoa(limit) + ` && exec "$0" "$@"`, binary(t)}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(hangBound):
		cmd.Process.Kill()
		<-done
		t.Fatalf("limit %d: portscan %s still runs after %v: hung\nstderr: %s", limit, strings.Join(args, " "), hangBound, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return limitedRun{out.String(), errb.String(), code}
}

// portStates reads the port records of jsonl output as "80/tcp" -> state.
func portStates(t *testing.T, jsonl string) map[string]string {
	t.Helper()
	states := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var rec struct {
			Type, Protocol, State string
			Port                  int
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if rec.Type == "port" {
			states[fmt.Sprintf("%d/%s", rec.Port, rec.Protocol)] = rec.State
		}
	}
	return states
}

// TestScanFileLimits runs TCP, UDP and mixed scans with several outputs
// and a baseline, each in a fresh process inside a namespace with only lo,
// under open-file limits from below the floor up. Below the floor the scan
// must refuse with one clear line (never a Go runtime fatal error), the
// line one below it must name the floor exactly, and from the floor up it
// must end, with the same port states as under a normal limit.
func TestScanFileLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ns := lab.NewNamespace(t, "filelimit")
	ns.SetICMPRateLimit(false) // every closed UDP port answers, at any pace
	for _, addr := range []string{"127.0.0.1:22", "127.0.0.1:80", "127.0.0.1:250"} {
		ns.Listen("tcp", addr)
	}
	ns.UDPEcho("udp", "127.0.0.1:53")
	ns.UDPEcho("udp", "127.0.0.1:161")

	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.jsonl")
	common := []string{"-q", "--seed", "1", "-p", "1-300", "--show", "closed,filtered,open|filtered", "--format", "jsonl"}
	target := "127.0.0.1"
	base := runLimited(t, ns, 1024, append(slices.Clone(common), "-sT", "-sU", "-o", ref, target)...)
	if base.code != 0 {
		t.Fatalf("at limit 1024: exit %d: %s", base.code, base.stderr)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	want := portStates(t, string(data))
	for _, p := range []string{"22/tcp", "80/tcp", "250/tcp", "53/udp", "161/udp"} {
		if want[p] != "open" {
			t.Fatalf("at limit 1024, %s is %q, want open", p, want[p])
		}
	}
	if len(want) != 600 {
		t.Fatalf("at limit 1024, %d ports reported, want 600", len(want))
	}

	out := filepath.Join(dir, "out.jsonl")
	tests := []struct {
		name   string
		args   []string
		protos []string // the protocols of want to compare
		file   string   // the jsonl output, when not stdout
	}{
		{"tcp", []string{"-sT"}, []string{"tcp"}, ""},
		{"tcp, concurrency far above the limit", []string{"-sT", "--concurrency", "500"}, []string{"tcp"}, ""},
		{"udp", []string{"-sU"}, []string{"udp"}, ""},
		{"both, three outputs and a baseline", []string{"-sT", "-sU", "-o", out, "--output-xml", filepath.Join(dir, "out.xml"),
			"--output-normal", filepath.Join(dir, "out.txt"), "--baseline", ref}, []string{"tcp", "udp"}, out},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(slices.Clone(common), tt.args...), target)
			wantHere := map[string]string{}
			for k, v := range want {
				if slices.Contains(tt.protos, k[strings.IndexByte(k, '/')+1:]) {
					wantHere[k] = v
				}
			}
			check := func(limit int) {
				t.Helper()
				r := runLimited(t, ns, limit, args...)
				if r.code != 0 {
					t.Errorf("limit %d: exit %d: %s", limit, r.code, r.stderr)
					return
				}
				got := r.stdout
				if tt.file != "" {
					b, err := os.ReadFile(tt.file)
					if err != nil {
						t.Fatal(err)
					}
					got = string(b)
				}
				states := portStates(t, got)
				for k, v := range wantHere {
					if states[k] != v {
						t.Errorf("limit %d: %s is %q, want %q as at limit 1024", limit, k, states[k], v)
					}
				}
				if len(states) != len(wantHere) {
					t.Errorf("limit %d: %d ports reported, want %d", limit, len(states), len(wantHere))
				}
			}

			// Find the floor: the lowest limit that scans. (At 3, the
			// dynamic loader itself finds no descriptor for libc.)
			floor := 0
			var below limitedRun
			for limit := 4; limit <= 40 && floor == 0; limit++ {
				r := runLimited(t, ns, limit, args...)
				if r.code == 0 {
					floor = limit
					break
				}
				if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "fatal error") ||
					!strings.Contains(r.stderr, "open-file limit") && !strings.Contains(r.stderr, "too many open files") {
					t.Fatalf("limit %d: exit %d, stderr %q; want 2 and one line on the open-file limit", limit, r.code, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("limit %d: refused, yet wrote %q", limit, r.stdout)
				}
				below = r
			}
			if floor == 0 {
				t.Fatal("no limit up to 40 lets the scan run")
			}
			t.Logf("floor %d; below it: %s", floor, strings.TrimSpace(below.stderr))
			if msg := fmt.Sprintf("portscan: the open-file limit (%d) is below the %d descriptors the scan needs; raise it with ulimit -n\n", floor-1, floor); below.stderr != msg {
				t.Errorf("at limit %d: stderr %q, want %q", floor-1, below.stderr, msg)
			}
			for _, limit := range []int{floor, floor + 1, 15, 16, 17, 20, 40} {
				if limit >= floor {
					check(limit)
				}
			}
		})
	}
}
