package lab

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// childEnv marks a test binary started by Reexec; its value is the name
// of the test the child is to run. dataEnv carries the parent's data.
const (
	childEnv = "PORTSCAN_LAB_CHILD"
	dataEnv  = "PORTSCAN_LAB_DATA"
)

// InChild reports whether this process is a test binary that Reexec
// started inside a namespace.
func InChild() bool { return os.Getenv(childEnv) != "" }

// Reexec runs the current test again, alone, in a new process of the test
// binary started inside the namespace with "ip netns exec", and waits for
// it. Every goroutine of the child lives in the namespace, so the whole
// scanner engine can run there unchanged. The test fails if the child
// fails or runs no test; the child's output is logged when it fails or
// under -v.
//
// The test must tell the two runs apart with InChild: the parent builds
// the lab and calls Reexec, the child reads what the parent passed as
// data (JSON-encoded) with ChildData and does the work:
//
//	func TestScanInside(t *testing.T) {
//		if lab.InChild() {
//			var fl lab.FilteredLoopback
//			lab.ChildData(t, &fl)
//			// ... scan fl.Addr with a plain net.Dialer ...
//			return
//		}
//		fl := lab.NewFilteredLoopback(t)
//		fl.NS.Reexec(t, fl)
//	}
//
// Namespace fields of data decode to nil in the child: it is already
// inside, and only the parent owns the namespace.
func (ns *Namespace) Reexec(t *testing.T, data any) {
	t.Helper()
	if InChild() {
		t.Fatal("lab: Reexec called in a child; guard the parent's part of the test with lab.InChild()")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("lab: Reexec: %v", err)
	}
	encoded, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("lab: Reexec: encoding data: %v", err)
	}
	args := []string{"-test.run=" + runPattern(t.Name()), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := ns.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), dataEnv+"="+string(encoded))
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Errorf("lab: the child test in %s failed: %v\n%s", ns.name, err, out)
	case !strings.Contains(string(out), "=== RUN   "+t.Name()):
		t.Errorf("lab: the child test in %s ran no test named %s\n%s", ns.name, t.Name(), out)
	case testing.Verbose():
		t.Logf("lab: the child test in %s:\n%s", ns.name, out)
	}
}

// ChildData decodes, into v, the data the parent passed to Reexec.
func ChildData(t testing.TB, v any) {
	t.Helper()
	if !InChild() {
		t.Fatal("lab: ChildData called outside a child started by Reexec")
	}
	if err := json.Unmarshal([]byte(os.Getenv(dataEnv)), v); err != nil {
		t.Fatalf("lab: ChildData: %v", err)
	}
}

// runPattern matches exactly one test or subtest name for -test.run.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// MarshalJSON encodes a namespace as null, so that the Namespace fields
// of a lab passed to Reexec decode to nil in the child: the child is
// already inside, and only the parent owns the namespace.
func (ns *Namespace) MarshalJSON() ([]byte, error) { return []byte("null"), nil }
