package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/result"
)

// listenCatalogPort opens a listener on 127.0.0.1 at a high port that the
// catalog names, so that results carry a label.
func listenCatalogPort(t *testing.T) (int, string) {
	t.Helper()
	for _, c := range []struct {
		port int
		name string
	}{{24554, "binkp"}, {60177, "tfido"}, {26000, "quake"}, {27374, "asp"}} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.port))
		if err != nil {
			continue
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
		return c.port, c.name
	}
	t.Skip("no free catalog port to listen on")
	return 0, ""
}

func TestScanLoopbackJSONL(t *testing.T) {
	port, name := listenCatalogPort(t)
	out, errs, code := runCLI(t, "-p", "1-1024,"+strconv.Itoa(port), "-sT", "-Pn", "--format", "jsonl", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sawPort, sawSummary bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch rec["type"] {
		case "port":
			if int(rec["port"].(float64)) == port {
				sawPort = true
				if rec["state"] != "open" || rec["service"] != name || rec["description_en"] == "" || rec["reason"] != "syn-ack" {
					t.Errorf("port record %v", rec)
				}
			}
		case "summary":
			sawSummary = true
			if rec["hosts_up"].(float64) != 1 {
				t.Errorf("summary %v", rec)
			}
		}
	}
	if !sawPort || !sawSummary {
		t.Errorf("port %d seen %v, summary seen %v:\n%s", port, sawPort, sawSummary, out)
	}
}

func TestScanText(t *testing.T) {
	port, name := listenCatalogPort(t)
	out, _, code := runCLI(t, "--lang", "zh", "-p", strconv.Itoa(port)+",1", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"PORT", strconv.Itoa(port) + "/tcp", "open", name, "Not shown: 1 closed", "1 host (1 up)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestScanUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"port range", []string{"-p", "70000", "127.0.0.1"}, `invalid port "70000": ports run 1-65535`},
		{"target", []string{"10.0.0.300"}, `invalid target "10.0.0.300"`},
		{"empty target", []string{""}, `invalid target "": empty target`},
		{"blank target", []string{"127.0.0.1", " "}, `invalid target " ": no target in it`},
		{"comma target", []string{","}, `invalid target ",": no target in it`},
		{"empty exclude", []string{"--exclude", " ", "127.0.0.1"}, `--exclude: invalid target " ": no target in it`},
		{"service name", []string{"-p", "nosuchservice", "127.0.0.1"}, `unknown service name "nosuchservice"`},
		{"format", []string{"--format", "yaml", "127.0.0.1"}, `unknown output format "yaml"`},
		{"show", []string{"--show", "sideways", "127.0.0.1"}, `invalid --show state "sideways"`},
		{"families", []string{"-4", "-6", "127.0.0.1"}, "-4 and -6 exclude each other"},
		{"rtt", []string{"--min-rtt-timeout", "2s", "--max-rtt-timeout", "1s", "127.0.0.1"}, "invalid RTT timeouts"},
		{"retries", []string{"--retries", "-1", "127.0.0.1"}, "invalid --retries -1"},
		{"list file", []string{"-iL", "/nonexistent/list"}, "/nonexistent/list"},
		{"exclude", []string{"--exclude", "10.0.0.999", "127.0.0.1"}, "--exclude"},
		{"nothing left", []string{"-p", "22", "--exclude-ports", "ssh", "127.0.0.1"}, "no ports left to scan"},
		{"max-open", []string{"--max-open", "-1", "127.0.0.1"}, "invalid --max-open -1: must be 0 (no cap) or more"},
		{"open and show", []string{"--open", "--show", "closed", "127.0.0.1"}, "--open and --show closed exclude each other"},
		{"service probes without -sV", []string{"--service-probes", "testdata/broken.nsp", "127.0.0.1"}, "need --detect (-sV)"},
		{"service probes file", []string{"-sV", "--service-probes", "testdata/broken.nsp", "127.0.0.1"}, "--service-probes: testdata/broken.nsp:2:"},
		{"missing service probes", []string{"-sV", "--service-probes", "/nonexistent.nsp", "127.0.0.1"}, "--service-probes: open /nonexistent.nsp"},
		{"version intensity", []string{"-sV", "--version-intensity", "10", "127.0.0.1"}, "invalid --version-intensity 10: want 0 to 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if code != 2 || !strings.Contains(errs, tt.msg) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, tt.msg)
			}
			if out != "" {
				t.Errorf("stdout %q for a usage error", out)
			}
		})
	}
}

func TestScanUnresolvableGoesOn(t *testing.T) {
	out, errs, code := runCLI(t, "-p", "1", "--format", "jsonl", "no-such-host.invalid", "127.0.0.1")
	if code != 0 || !strings.Contains(errs, "no-such-host.invalid") || !strings.Contains(out, `"hosts_up":1`) {
		t.Errorf("exit %d, stderr %q, out %q", code, errs, out)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds portscan once for the tests that need a real process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "portscan-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "portscan")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestInterruptLeavesValidJSON scans a loopback /16, interrupts it, and
// checks the exit status and that the -o file is a whole JSON document.
func TestInterruptLeavesValidJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, format := range []string{"json", "xml", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out."+format)
			cmd := exec.Command(binary(t), "--format", format, "-o", path, "127.1.0.0/16")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
				t.Fatalf("exit: %v, want status 130", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			switch format {
			case "json":
				var doc struct {
					Hosts   []struct{ Up bool }
					Summary struct {
						Interrupted bool
						Hosts       int
						HostsUp     int `json:"hosts_up"`
					}
				}
				if err := json.Unmarshal(data, &doc); err != nil || !doc.Summary.Interrupted || len(doc.Hosts) == 0 {
					t.Errorf("json: %v, interrupted %v, %d hosts", err, doc.Summary.Interrupted, len(doc.Hosts))
				}
				up := 0
				for _, h := range doc.Hosts {
					if h.Up {
						up++
					}
				}
				if doc.Summary.Hosts != len(doc.Hosts) || doc.Summary.HostsUp != up {
					t.Errorf("json lists %d hosts, %d up; its summary counts %d, %d up", len(doc.Hosts), up, doc.Summary.Hosts, doc.Summary.HostsUp)
				}
			case "xml":
				if !strings.Contains(string(data), `errormsg="interrupted"`) || !strings.HasSuffix(strings.TrimSpace(string(data)), "</nmaprun>") {
					t.Errorf("xml not closed: ...%s", data[max(0, len(data)-300):])
				}
			case "jsonl":
				lines := strings.Split(strings.TrimSpace(string(data)), "\n")
				if last := lines[len(lines)-1]; !strings.Contains(last, `"type":"summary"`) || !strings.Contains(last, `"interrupted":true`) {
					t.Errorf("last jsonl line %q", last)
				}
				hosts := 0
				for _, l := range lines {
					if strings.Contains(l, `"type":"host"`) {
						hosts++
					}
				}
				if want := `"hosts":` + strconv.Itoa(hosts) + ","; !strings.Contains(lines[len(lines)-1], want) {
					t.Errorf("%d host lines; summary %s", hosts, lines[len(lines)-1])
				}
			}
		})
	}
}

// TestScanXMLValid writes -oX beside text output and validates it against
// nmap's DTD, as ndiff and other nmap XML readers expect it.
func TestScanXMLValid(t *testing.T) {
	const dtd = "/usr/share/nmap/nmap.dtd"
	xmllint, err := exec.LookPath("xmllint")
	if _, serr := os.Stat(dtd); err != nil || serr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks xmllint or %s", dtd)
		}
		t.Skip("needs xmllint and nmap's DTD (apt-get install libxml2-utils nmap)")
	}
	port, _ := listenCatalogPort(t)
	path := filepath.Join(t.TempDir(), "scan.xml")
	_, errs, code := runCLI(t, "-p", "1-100,"+strconv.Itoa(port), "-oX", path, "127.0.0.1", "127.0.0.2", "::1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	out, err := exec.Command(xmllint, "--noout", "--dtdvalid", dtd, path).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `portid="`+strconv.Itoa(port)+`"`) {
		t.Errorf("open port %d missing from XML", port)
	}
}

func TestScanUDPAndTCP(t *testing.T) {
	port, _ := listenCatalogPort(t)
	out, errs, code := runCLI(t, "-sT", "-sU", "-Pn", "-p", "T:"+strconv.Itoa(port)+",U:9", "--show", "closed", "--format", "jsonl", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`"port":` + strconv.Itoa(port) + `,"protocol":"tcp","state":"open"`,
		`"port":9,"protocol":"udp","state":"closed","reason":"port-unreach","service":"discard"`,
		`"scan_type":"connect+udp"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"port":9,"protocol":"tcp"`) {
		t.Error("U:9 was scanned on TCP too")
	}
}

func TestNmapHabits(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-O", "127.0.0.1"}, 2, "nmap's -O is not supported: OS detection"},
		{[]string{"--detect-timeout", "0", "127.0.0.1"}, 2, "invalid --detect-timeout 0s"},
		{[]string{"-sA", "127.0.0.1"}, 2, "nmap's -sA is not supported: the other raw TCP scans"},
		{[]string{"-sS", "-sT", "127.0.0.1"}, 2, "-sS (--syn) and -sT (--tcp) exclude each other"},
		{[]string{"--script=banner", "127.0.0.1"}, 2, "NSE scripts are not run"},
		{[]string{"-T9", "127.0.0.1"}, 2, `invalid timing template "9"`},
		{[]string{"--timing", "6", "127.0.0.1"}, 2, `invalid timing template "6"`},
		{[]string{"-T5", "-sT", "-Pn", "-n", "-p", "1", "127.0.0.1"}, 0, ""},
		{[]string{"-T4", "-p-", "--exclude-ports", "2-65535", "127.0.0.1"}, 0, ""},
		{[]string{"-p", "1", "--", "-T4"}, 2, `invalid target "-T4"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errs, code := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.msg)
			}
		})
	}
}

func TestShowStates(t *testing.T) {
	tests := []struct {
		name      string
		open      bool
		show      []string
		want, all []result.State
		down      bool
		err       string
	}{
		{name: "default", want: []result.State{result.Open, result.OpenFiltered}},
		// nmap's --open lists every state that may be open.
		{name: "open", open: true, want: []result.State{result.Open, result.OpenFiltered}},
		{name: "closed", show: []string{"closed"}, want: []result.State{result.Open, result.Closed, result.OpenFiltered}, all: []result.State{result.Closed}},
		{name: "named open|filtered", show: []string{"open|filtered", "filtered"}, want: []result.State{result.Open, result.Filtered, result.OpenFiltered},
			all: []result.State{result.Filtered, result.OpenFiltered}},
		{name: "down", show: []string{"down"}, want: []result.State{result.Open, result.OpenFiltered}, down: true},
		{name: "open and down", open: true, show: []string{"down"}, want: []result.State{result.Open, result.OpenFiltered}, down: true},
		{name: "open and closed", open: true, show: []string{"closed"}, err: "--open and --show closed exclude each other"},
		{name: "bad", show: []string{"sideways"}, err: `invalid --show state "sideways": want open, closed, filtered, open|filtered or down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &scanFlags{open: tt.open, show: tt.show}
			show, err := showStates(f)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []result.State
			for _, s := range []result.State{result.Open, result.Closed, result.Filtered, result.OpenFiltered} {
				if show[s] {
					got = append(got, s)
				}
			}
			all, down := shownInFull(f)
			var gotAll []result.State
			for _, s := range []result.State{result.Open, result.Closed, result.Filtered, result.OpenFiltered} {
				if all[s] {
					gotAll = append(gotAll, s)
				}
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(gotAll, tt.all) || down != tt.down {
				t.Errorf("shown %v, in full %v, down %v; want %v, %v, %v", got, gotAll, down, tt.want, tt.all, tt.down)
			}
		})
	}
}

// TestScanShowClosedListsAll asks for closed ports by name: every one is
// listed, none folded into "Not shown".
func TestScanShowClosedListsAll(t *testing.T) {
	out, errs, code := runCLI(t, "-Pn", "-p", "1-40", "--show", "closed", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, "/tcp "); n < 39 || strings.Contains(out, "Not shown") {
		t.Errorf("%d ports listed of 40:\n%s", n, out)
	}
}
