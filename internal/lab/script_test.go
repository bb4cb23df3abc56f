package lab_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabScript builds the three labs with bench/lab.sh, under a prefix of
// this run's own, checks a few ports of each from inside, and tears them
// down.
func TestLabScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds labd; skipped with -short")
	}
	lab.Require(t)
	script, err := filepath.Abs("../../bench/lab.sh")
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("ps-%d-0-", os.Getpid())
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	env := append(os.Environ(),
		"PORTSCAN_LAB_PREFIX="+prefix,
		"PORTSCAN_LAB_STATE="+t.TempDir(),
		"GO="+goCmd,
	)
	sh := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		if out, err := sh("down"); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, out)
		}
	})
	if out, err := sh("up", "lan", "filtered", "slash24"); err != nil {
		t.Fatalf("lab.sh up: %v\n%s", err, out)
	}
	// Up again: labs are rebuilt, not doubled.
	if out, err := sh("up", "filtered"); err != nil {
		t.Fatalf("lab.sh up again: %v\n%s", err, out)
	}

	// connect reports what bash's /dev/tcp gets from inside the lab.
	const connect = `timeout 3 bash -c 'echo >/dev/tcp/%s/%d' 2>&1 && echo connected || true`
	cases := []struct {
		lab, addr string
		port      int
		want      string
	}{
		{"lan", "198.18.0.1", 22, "connected"},
		{"lan", "198.18.0.3", 8080, "connected"},
		{"lan", "198.18.0.1", 23, "Connection refused"},
		{"filtered", "127.0.0.1", 443, "connected"},
		{"filtered", "127.0.0.1", 23, "Connection refused"},
		{"filtered", "127.0.0.1", 111, "No route to host"},
		{"slash24", "127.0.1.77", 8080, "connected"},
		{"slash24", "127.0.1.77", 9, "Connection refused"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s:%d", tc.lab, tc.addr, tc.port), func(t *testing.T) {
			out, err := sh("exec", tc.lab, "bash", "-c", fmt.Sprintf(connect, tc.addr, tc.port))
			if err != nil || !strings.Contains(out, tc.want) {
				t.Errorf("got %q, %v; want %q", out, err, tc.want)
			}
		})
	}

	out, err := sh("status")
	if err != nil || strings.Count(out, " up,") != 4 {
		t.Errorf("status: %v\n%s", err, out)
	}
	if out, err := sh("down"); err != nil {
		t.Fatalf("lab.sh down: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir("/var/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("namespace %s left after down", e.Name())
		}
	}
}
