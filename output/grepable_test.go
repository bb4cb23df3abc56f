package output

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

var (
	grepHostField = regexp.MustCompile(`^Host: [0-9a-f.:]+ \([^()\t]*\)$`)
	grepPortEntry = regexp.MustCompile(`^[0-9]+/(open|closed|filtered|open\|filtered|unknown)/(tcp|udp|ddp)//[^/,]*//[^/,]*/$`)
	grepIgnored   = regexp.MustCompile(`^Ignored State: [a-z|]+ \([0-9]+\)(, [a-z|]+ \([0-9]+\))*$`)
	grepMAC       = regexp.MustCompile(`^MAC: [0-9A-F]{2}(:[0-9A-F]{2}){5} \([^()]*\)$`)
)

// checkGrepable fails unless out has the shape of nmap's grepable
// output: a comment first and last, and between them Host lines whose
// tab-separated fields and slash-separated port entries split cleanly.
func checkGrepable(t testing.TB, out []byte) {
	t.Helper()
	if !utf8.Valid(out) || !bytes.HasSuffix(out, []byte("\n")) {
		t.Fatalf("grepable output not UTF-8 lines:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "# portscan") || !strings.Contains(lines[0], "scan initiated") {
		t.Fatalf("first line %q", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "# portscan done") && !strings.HasPrefix(last, "# portscan interrupted") {
		t.Fatalf("last line %q", last)
	}
	for _, line := range lines {
		for _, r := range line {
			if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("control character %q in %q", r, line)
			}
		}
	}
	for _, line := range lines[1 : len(lines)-1] {
		fields := strings.Split(line, "\t")
		if !grepHostField.MatchString(fields[0]) || len(fields) < 2 {
			t.Fatalf("host field %q in %q", fields[0], line)
		}
		for i, f := range fields[1:] {
			switch {
			case f == "Status: Up" || f == "Status: Down" || f == "Status: Unknown":
			case f == "Ports: ":
			case strings.HasPrefix(f, "Ports: "):
				for _, e := range strings.Split(strings.TrimPrefix(f, "Ports: "), ", ") {
					if !grepPortEntry.MatchString(e) {
						t.Fatalf("port entry %q in %q", e, line)
					}
				}
			case grepIgnored.MatchString(f):
			case grepMAC.MatchString(f) && i == 1 && strings.HasPrefix(fields[1], "Status: "):
			default:
				t.Fatalf("field %q in %q", f, line)
			}
		}
	}
}

// TestGrepableEscape checks that bytes from catalogs, target lists and
// service replies cannot split a line, a field or a port entry: each
// byte that could is written \xHH, and so is the backslash.
func TestGrepableEscape(t *testing.T) {
	e := &services.Entry{Port: ports.Port{Number: 22, Proto: ports.TCP}, Name: "a/b, c\x00\\", Source: "evil.tsv"}
	sc := scenario{
		info: result.Info{Args: []string{"portscan", "-p", "22", "evil\thost)\n(\x1b[2J"}, Start: t0, Version: "0.1.0"},
		events: []event{
			{port: &result.Port{Host: local, Hostname: "evil\thost)\n(", Port: e.Port, State: result.Open, Reason: result.ReasonSynAck, Service: e,
				Detected: &result.Service{Name: "ssh", Product: "Open/SSH", Version: "1,2", Info: "x\ny\xff"}}},
			hostEv(result.Host{Addr: local, Hostname: "evil\thost)\n(", Up: true}),
		},
		stats: result.Summary{Start: t0, End: at(50), HostsUp: 1, Open: 1},
	}
	out := render(t, "grepable", sc)
	checkGrepable(t, out)
	for _, want := range []string{
		"# portscan 0.1.0 scan initiated Fri Jan  2 03:04:05 2026 as: portscan -p 22 \"evil\\thost)\\n(\\x1b[2J\"\n",
		`Host: 127.0.0.1 (evil\x09host\x29\x0a\x28)` + "\tStatus: Up\n",
		`Host: 127.0.0.1 (evil\x09host\x29\x0a\x28)` + "\tPorts: " + `22/open/tcp//a\x2fb\x2c c\x00\x5c//Open\x2fSSH 1\x2c2 (x\x0ay\xff)/` + "\n",
		"# portscan done at Fri Jan  2 03:04:05 2026 -- 1 IP address (1 host up) scanned in 0.05 seconds\n",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestGrepableGrep greps the golden scan for open ports, as scripts
// written for nmap's -oG do.
func TestGrepableGrep(t *testing.T) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		t.Skip("no grep")
	}
	path := filepath.Join(t.TempDir(), "scan.gnmap")
	if err := os.WriteFile(path, render(t, "grepable", scenarios()[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(grep, "/open/", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	open := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		host := strings.Fields(line)[1]
		hosts = append(hosts, host)
		_, ports, _ := strings.Cut(line, "Ports: ")
		ports, _, _ = strings.Cut(ports, "\t")
		for _, e := range strings.Split(ports, ", ") {
			if f := strings.Split(e, "/"); f[1] == "open" {
				open[host] = append(open[host], f[0]+"/"+f[2]+" "+f[4])
			}
		}
	}
	if strings.Join(hosts, " ") != "127.0.0.1 ::1" {
		t.Errorf("grep /open/ found hosts %v:\n%s", hosts, out)
	}
	if got := strings.Join(open["127.0.0.1"], ","); got != "22/tcp ssh,80/tcp http,9999/tcp " {
		t.Errorf("127.0.0.1 open: %s", got)
	}
	if got := strings.Join(open["::1"], ","); got != "443/tcp https,8080/tcp 内部代理" {
		t.Errorf("::1 open: %s", got)
	}
}

// TestGrepableAllIgnored writes an empty Ports field before the
// ignored states, as nmap does when no port is listed.
func TestGrepableAllIgnored(t *testing.T) {
	sc := scenario{
		info: result.Info{Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 3},
		events: []event{
			res(local, "", 1, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, nil),
			res(local, "", 2, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, nil),
			res(local, "", 3, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1, nil),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonConnRefused}),
		},
		stats: result.Summary{Start: t0, End: at(100), HostsUp: 1, Probes: 3},
	}
	out := render(t, "grepable", sc)
	checkGrepable(t, out)
	if want := "Host: 127.0.0.1 ()\tPorts: \tIgnored State: closed (2), filtered (1)\n"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}
