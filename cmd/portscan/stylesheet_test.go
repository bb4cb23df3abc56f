package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// piLine is the xml-stylesheet line of an XML document, or "".
func piLine(doc string) string {
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "<?xml-stylesheet") {
			return line
		}
	}
	return ""
}

// TestStylesheetFlags checks the stylesheet XML output names: by default
// the installed nmap.xsl ($NMAPDIR here), or what --stylesheet, --webxml
// and --no-stylesheet say; the three exclude each other.
func TestStylesheetFlags(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nmap.xsl"), []byte("<xsl/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NMAPDIR", dir)
	pcap := filepath.Join("..", "..", "testdata", "pcaps", "lab-lo.pcap")
	for _, tt := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"default", nil, `<?xml-stylesheet href="file://` + dir + `/nmap.xsl" type="text/xsl"?>`},
		{"stylesheet", []string{"--stylesheet", "report & co.xsl"}, `<?xml-stylesheet href="report &amp; co.xsl" type="text/xsl"?>`},
		{"webxml", []string{"--webxml"}, `<?xml-stylesheet href="https://nmap.org/svn/docs/nmap.xsl" type="text/xsl"?>`},
		{"none", []string{"--no-stylesheet"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, append(append([]string{"pcap", "-q", "--format", "xml"}, tt.flags...), pcap)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := piLine(out); got != tt.want {
				t.Errorf("stylesheet line %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("exclusive", func(t *testing.T) {
		_, errs, code := runCLI(t, "pcap", "--format", "xml", "--webxml", "--no-stylesheet", pcap)
		if code != exitUsage || !strings.Contains(errs, "webxml") {
			t.Errorf("exit %d, stderr %q; want a usage error naming the flags", code, errs)
		}
	})
}

// TestScanStylesheet checks that a scan's XML, on stdout and in the -oX
// file, names the stylesheet given.
func TestScanStylesheet(t *testing.T) {
	port, _ := listenCatalogPort(t)
	path := filepath.Join(t.TempDir(), "scan.xml")
	out, errs, code := runCLI(t, "-q", "--format", "xml", "-oX", path, "--webxml", "-p", strconv.Itoa(port), "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml-stylesheet href="https://nmap.org/svn/docs/nmap.xsl" type="text/xsl"?>`
	for name, doc := range map[string]string{"stdout": out, "-oX": string(file)} {
		if got := piLine(doc); got != want {
			t.Errorf("%s: stylesheet line %q, want %q", name, got, want)
		}
	}
}
