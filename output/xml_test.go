package output

import (
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

const (
	nmapDTD = "/usr/share/nmap/nmap.dtd"
	nmapXSL = "/usr/share/nmap/nmap.xsl"
)

// writeXML renders every scenario as XML into dir and returns the paths
// by scenario name.
func writeXML(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths := make(map[string]string)
	for _, sc := range scenarios() {
		p := filepath.Join(dir, sc.name+".xml")
		if err := os.WriteFile(p, render(t, "xml", sc), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[sc.name] = p
	}
	return paths
}

// TestXMLValidDTD validates the XML output against nmap's own DTD with
// xmllint, when both are installed (Debian: nmap, libxml2-utils).
func TestXMLValidDTD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils)")
	}
	if _, err := os.Stat(nmapDTD); err != nil {
		t.Skipf("%s not found (Debian package nmap)", nmapDTD)
	}
	for name, path := range writeXML(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(xmllint, "--noout", "--dtdvalid", nmapDTD, path).CombinedOutput()
			if err != nil {
				t.Errorf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

// TestNdiff runs nmap's ndiff on pairs of outputs, when it is installed:
// it must read them, find no change between a file and itself, and see
// the ports that differ between two runs.
func TestNdiff(t *testing.T) {
	ndiff, err := exec.LookPath("ndiff")
	if err != nil {
		t.Skip("ndiff not installed (Debian package ndiff)")
	}
	paths := writeXML(t, t.TempDir())
	run := func(a, b string) (string, int) {
		out, err := exec.Command(ndiff, paths[a], paths[b]).CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &exit):
			return string(out), exit.ExitCode()
		}
		t.Fatalf("ndiff: %v", err)
		return "", -1
	}
	tests := []struct {
		name, a, b string
		wantCode   int
		want       []string
	}{
		{"same", "scan", "scan", 0, nil},
		{"changed", "scan", "interrupted", 1, []string{"80/tcp", "open"}},
		// Runs of different arguments: ndiff prints each one's banner,
		// "Nmap" and the version attribute, which names portscan.
		{"udp", "udp", "scan", 1, []string{"53/udp",
			"-Nmap portscan 0.1.0 scan initiated ", " as: portscan -sU -p 53,161,1000-1029 localhost 127.0.0.2\n",
			"+Nmap portscan 0.1.0 scan initiated ", " as: portscan -p 1-1024,3306,8080 --reason localhost ::1 127.0.0.2\n"}},
		{"pcap", "pcap", "scan", 1, []string{"22/tcp", "-Nmap portscan 0.1.0 scan initiated "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(tt.a, tt.b)
			if code != tt.wantCode {
				t.Fatalf("ndiff exit %d, want %d\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("ndiff output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "Nmap 0.1.0") {
				t.Errorf("ndiff calls portscan's version nmap's:\n%s", out)
			}
		})
	}
}

// openRow is a row of nmap.xsl's port table for an open port: its
// number and protocol.
var openRow = regexp.MustCompile(`<tr class="open">\s*<td>(\d+)</td>\s*<td>(\w+)</td>`)

// TestXSLT renders the scan scenario's XML to HTML the way a browser
// does, with xsltproc and the stylesheet its xml-stylesheet instruction
// names (nmap's installed nmap.xsl; Debian packages xsltproc and nmap).
// The page must name portscan, not an "Nmap 0.1.0", and list the open
// ports.
func TestXSLT(t *testing.T) {
	xsltproc, err := exec.LookPath("xsltproc")
	_, serr := os.Stat(nmapXSL)
	if err != nil || serr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks xsltproc or %s", nmapXSL)
		}
		t.Skipf("needs xsltproc and %s (apt-get install xsltproc nmap)", nmapXSL)
	}
	path := writeXML(t, t.TempDir())["scan"]
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `<?xml-stylesheet href="file://`+nmapXSL+`" type="text/xsl"?>`) {
		t.Fatalf("the scan scenario names no stylesheet:\n%s", data)
	}
	// No stylesheet argument: xsltproc applies the one the file names.
	out, err := exec.Command(xsltproc, "--nonet", path).Output()
	if err != nil {
		t.Fatalf("xsltproc: %v\n%s", err, out)
	}
	page := html.UnescapeString(string(out))
	for _, want := range []string{
		"Nmap portscan 0.1.0 was initiated at Fri Jan  2 03:04:05 2026 with these arguments:",
		"<i>portscan -p 1-1024,3306,8080 --reason localhost ::1 127.0.0.2</i>",
		"portscan done at Fri Jan  2 03:04:07 2026: 3 hosts (2 up) scanned in 2.50 s",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "Nmap 0.1.0") {
		t.Error(`the page says "Nmap 0.1.0"`)
	}
	var open []string
	for _, m := range openRow.FindAllStringSubmatch(page, -1) {
		open = append(open, m[1]+"/"+m[2])
	}
	slices.Sort(open)
	if want := []string{"22/tcp", "443/tcp", "80/tcp", "8080/tcp", "9999/tcp"}; !slices.Equal(open, want) {
		t.Errorf("open ports in the page %v, want %v", open, want)
	}
}

// TestDescribeComment checks the comment that carries a port's catalog
// description in XML: in the language asked for, naming a catalog other
// than the built-in one, and legal inside an XML comment.
func TestDescribeComment(t *testing.T) {
	dashes := &services.Entry{Port: ports.Port{Number: 9, Proto: ports.UDP}, Name: "discard", DescriptionEn: "discard -- drop everything-", Source: services.Builtin}
	for _, tc := range []struct {
		name string
		e    *services.Entry
		lang string
		want string
	}{
		{"zh", ssh, "zh", " catalog: 安全外壳远程登录 "},
		{"en", ssh, "en", " catalog: Secure Shell remote login "},
		{"user catalog, zh only", custom, "en", " catalog /etc/portscan/extra.tsv: 自定义 "},
		{"dashes", dashes, "en", " catalog: discard - - drop everything- "},
		{"no description", &services.Entry{Name: "x", Source: services.Builtin}, "en", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeComment(tc.e, tc.lang); got != tc.want {
				t.Errorf("describeComment = %q, want %q", got, tc.want)
			}
		})
	}
}
