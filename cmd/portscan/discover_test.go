package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiscoverOnlyScan runs -sn against 127.0.0.1, which answers the
// discovery ports (refused, unless something listens there), in each
// format: the host is reported up with its reason and latency, and no
// port is.
func TestDiscoverOnlyScan(t *testing.T) {
	out, errs, code := runCLI(t, "-sn", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{": host discovery", "portscan report for 127.0.0.1\nHost is up, received ", "s latency).", "1 host (1 host up)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PORT") || strings.Contains(out, "Not shown") {
		t.Errorf("text lists ports:\n%s", out)
	}
	out, errs, code = runCLI(t, "--discover-only", "--format", "jsonl", "127.0.0.1")
	if code != 0 || !strings.Contains(out, `"type":"host","host":"127.0.0.1","up":true`) || strings.Contains(out, `"type":"port"`) ||
		!strings.Contains(out, `"scan_type":"discovery"`) {
		t.Errorf("exit %d, jsonl:\n%s%s", code, out, errs)
	}
	path := filepath.Join(t.TempDir(), "sn.xml")
	if _, errs, code = runCLI(t, "-sn", "-oX", path, "127.0.0.1"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `<status state="up"`) || strings.Contains(string(data), "<ports") {
		t.Errorf("xml:\n%s", data)
	}
	const dtd = "/usr/share/nmap/nmap.dtd"
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if _, err := os.Stat(dtd); err == nil {
			if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", dtd, path).CombinedOutput(); err != nil {
				t.Errorf("xmllint: %v\n%s", err, out)
			}
		}
	}
}

func TestDiscoverOnlyUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-sn", "-p", "22"}, "-sn (--discover-only) probes no ports: drop --ports"},
		{[]string{"-sn", "-F"}, "drop --top-ports"},
		{[]string{"-sn", "-sU"}, "drop --udp"},
		{[]string{"-sn", "-Pn"}, "drop --skip-discovery"},
		{[]string{"-sn", "--format", "csv"}, "csv output lists ports"},
		{[]string{"-sn", "--max-open", "5"}, "drop --max-open"},
		{[]string{"-q", "-v"}, "-q and -v exclude each other"},
		{[]string{"-q", "--stats-every", "1s"}, "-q and --stats-every exclude each other"},
		{[]string{"--stats-every", "0s"}, "invalid --stats-every 0s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, append(tt.args, "127.0.0.1")...)
			if code != 2 || !strings.Contains(errs, tt.msg) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want 2 and one line with %q", code, errs, out, tt.msg)
			}
		})
	}
}

// TestVerboseHostTiming checks that -v tells of each host's timing as it
// finishes, on stderr, and that without it nothing is said.
func TestVerboseHostTiming(t *testing.T) {
	_, errs, code := runCLI(t, "-v", "-p", "1", "127.0.0.1")
	if code != 0 || !strings.Contains(errs, "portscan: 127.0.0.1 up (") || !strings.Contains(errs, "srtt ") || !strings.Contains(errs, "timeout ") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	_, errs, _ = runCLI(t, "-p", "1", "127.0.0.1")
	if errs != "" {
		t.Errorf("stderr without -v: %q", errs)
	}
	// -v leaves hosts down alone; -vv tells of them too.
	_, errs, _ = runCLI(t, "-vv", "-sn", "--initial-rtt-timeout", "50ms", "--max-rtt-timeout", "50ms", "--min-rtt-timeout", "50ms", "127.0.0.1")
	if !strings.Contains(errs, "127.0.0.1 up") {
		t.Errorf("-vv stderr %q", errs)
	}
}
