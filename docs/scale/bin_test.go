package scale

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// uid is the user the image runs as (Containerfile USER) and the
// manifests' runAsUser; the tests run the manifests' commands as it.
const uid = 65532

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// portscanBin builds portscan from the root module, once per test
// process, into a directory every user may read.
func portscanBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "portscan-scale-bin-")
		if binErr != nil {
			return
		}
		if binErr = os.Chmod(binDir, 0o755); binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-C", filepath.Join("..", ".."), "-o", filepath.Join(binDir, "portscan"), "./cmd/portscan")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/portscan: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "portscan")
}

// requireMerge fails the test unless bin has the merge command: without
// it, "portscan merge FILES" would be a scan of targets named merge and
// FILES.
func requireMerge(t testing.TB, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "help", "merge").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "portscan merge") {
		t.Fatalf("%s has no merge command (%v):\n%s", bin, err, out)
	}
}

// TestMain removes the binary portscanBin built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// openDir makes a temporary directory that uid may enter and, with
// owned, write in (as a pod's volume with fsGroup).
func openDir(t testing.TB, owned bool) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "portscan-scale-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if owned {
		if err := os.Chown(dir, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// asUser returns a command that runs argv in the namespace ns (none if
// nil) as uid, with no capability and no supplementary group: as a pod
// of the manifests runs.
func asUser(ns *netns, env []string, argv ...string) *exec.Cmd {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		setpriv = "setpriv"
	}
	args := append([]string{fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", uid), "--clear-groups", "--"}, argv...)
	var cmd *exec.Cmd
	if ns == nil {
		cmd = exec.Command(setpriv, args...)
	} else {
		cmd = ns.command(setpriv, args...)
	}
	cmd.Env = env
	return cmd
}

// exitCode runs cmd and returns its exit status and combined output; an
// error other than a non-zero exit fails the test.
func exitCode(t testing.TB, cmd *exec.Cmd) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return 0, out.String()
}

// copyFile copies src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lines counts the lines of a file (0 if it does not exist).
func lines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}
