// Package golden compares test output with golden files under testdata,
// and rewrites them when the tests run with -update. It is the one
// -update flag of the project's tests.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is set by -update: golden files are rewritten, not compared.
var Update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with the file at path. Under -update it writes got
// there first (making its directory), so the comparison passes.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		Write(t, path, got)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update makes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it after you check it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Write writes data to path, making its directory; tests that generate
// fixtures call it under -update.
func Write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
