package output

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindStylesheet(t *testing.T) {
	none, with, spaced := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "my nmap")
	for _, d := range []string{with, spaced} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "nmap.xsl"), []byte("<xsl/>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dirOnly := t.TempDir()
	if err := os.Mkdir(filepath.Join(dirOnly, "nmap.xsl"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"none", []string{none}, ""},
		{"first found", []string{none, with, spaced}, "file://" + filepath.Join(with, "nmap.xsl")},
		{"escaped", []string{spaced}, "file://" + filepath.Join(filepath.Dir(spaced), "my%20nmap", "nmap.xsl")},
		{"a directory is no stylesheet", []string{dirOnly}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := findStylesheet(tc.dirs); got != tc.want {
				t.Errorf("findStylesheet = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLocalStylesheet checks that $NMAPDIR comes first, as it does for
// nmap.
func TestLocalStylesheet(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nmap.xsl"), []byte("<xsl/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NMAPDIR", dir)
	if got, want := LocalStylesheet(), "file://"+filepath.Join(dir, "nmap.xsl"); got != want {
		t.Errorf("LocalStylesheet = %q, want %q", got, want)
	}
}
