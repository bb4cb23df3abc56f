package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapDir holds the capture fixtures and their golden outputs.
const pcapDir = "../../testdata/pcaps"

// runPcapCLI runs "portscan ARGS..." in-process with colour off, stdin
// from stdin, and os.Args set as a shell would, so that the command line
// recorded in the outputs is the same in every run.
func runPcapCLI(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = append([]string{"--color", "never"}, args...)
	saved := os.Args
	os.Args = append([]string{"portscan"}, args...)
	defer func() { os.Args = saved }()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdin, &out, &errb)
	return out.String(), errb.String(), code
}

// pcapGolden compares got with testdata/pcaps/golden/name, rewriting it
// under -update.
func pcapGolden(t *testing.T, name, got string) {
	t.Helper()
	golden(t, filepath.Join(pcapDir, "golden", name), got)
}

// TestPcapGolden runs every fixture through the report formats and the
// packet lines.
func TestPcapGolden(t *testing.T) {
	chdir(t, pcapDir)
	fixtures := []string{"tcp-ethernet.pcap", "tcp-ethernet.pcap.gz", "udp-vlan.pcap", "ipv6-sll.pcap", "sll2.pcapng",
		"multi.pcapng", "loopback.pcap", "raw.pcap.gz", "lab-lo.pcap", "tshark-lo.pcapng", "dhcp.pcap", "detect.pcap"}
	type variant struct {
		suffix string
		args   []string
	}
	variants := []variant{
		{"txt", []string{"--lang", "en", "--show", "closed,filtered", "--reason"}},
		{"jsonl", []string{"--format", "jsonl", "--show", "closed,filtered"}},
		{"packets", []string{"--lang", "en", "--packets"}},
	}
	for _, fx := range fixtures {
		for _, v := range variants {
			name := fx + "." + v.suffix
			t.Run(name, func(t *testing.T) {
				args := append(append([]string{"pcap", "-q"}, v.args...), fx)
				out, errs, code := runPcapCLI(t, nil, args...)
				if code != 0 || errs != "" {
					t.Fatalf("exit %d, stderr %q", code, errs)
				}
				pcapGolden(t, name, out)
			})
		}
	}
	for _, format := range []string{"json", "csv", "xml"} {
		name := "tcp-ethernet.pcap." + format
		t.Run(name, func(t *testing.T) {
			args := []string{"pcap", "-q", "--format", format, "--show", "closed,filtered", "tcp-ethernet.pcap"}
			if format == "xml" { // the default stylesheet depends on whether nmap is installed
				args = append(args[:len(args)-1], "--no-stylesheet", "tcp-ethernet.pcap")
			}
			out, errs, code := runPcapCLI(t, nil, args...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			pcapGolden(t, name, out)
		})
	}
	t.Run("several files are one capture", func(t *testing.T) {
		out, _, code := runPcapCLI(t, nil, "pcap", "-q", "--lang", "zh", "tcp-ethernet.pcap", "udp-vlan.pcap", "loopback.pcap")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		pcapGolden(t, "three-files.txt", out)
	})
}

// chdir moves to dir for the test, so that file names in outputs are
// short and stable.
func chdir(t *testing.T, dir string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
}

// TestPcapTsharkStatistics reads a file tshark wrote, which ends with an
// Interface Statistics Block, as a whole capture in pcap and diff.
func TestPcapTsharkStatistics(t *testing.T) {
	chdir(t, pcapDir)
	if _, errs, code := runPcapCLI(t, nil, "pcap", "-q", "tshark-lo.pcapng"); code != 0 || errs != "" {
		t.Errorf("pcap: exit %d, stderr %q", code, errs)
	}
	out, errs, code := runPcapCLI(t, nil, "diff", "tshark-lo.pcapng", "tshark-lo.pcapng")
	if code != 0 || errs != "" || !strings.Contains(out, "No differences") {
		t.Errorf("diff: exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
}

func TestPcapStdin(t *testing.T) {
	chdir(t, pcapDir)
	data, err := os.ReadFile("raw.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _, _ := runPcapCLI(t, nil, "pcap", "-q", "--format", "csv", "raw.pcap.gz")
	fromStdin, errs, code := runPcapCLI(t, bytes.NewReader(data), "pcap", "-q", "--format", "csv", "-")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if fromStdin != fromFile {
		t.Errorf("stdin gave\n%s\nthe file gave\n%s", fromStdin, fromFile)
	}
}

func TestPcapBadInput(t *testing.T) {
	chdir(t, pcapDir)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a capture\n"), 0o644)
	// The first packet of truncated.pcap whole, the second cut short.
	whole, err := os.ReadFile("truncated.pcap")
	if err != nil {
		t.Fatal(err)
	}
	onePacket := filepath.Join(dir, "one.pcap")
	os.WriteFile(onePacket, whole[:24+16+60+10], 0o644)
	tests := []struct {
		name       string
		args       []string
		code       int
		stderr     string // must contain
		stdout     string // must contain
		stdoutNone bool
	}{
		{"truncated: what was read is reported", []string{"pcap", "truncated.pcap"}, 1,
			"truncated.pcap: packet 13 at byte offset 993: truncated capture: unexpected EOF; the 12 packets before it are reported",
			"80/tcp open  http", false},
		{"truncated after one packet", []string{"pcap", "-q", onePacket}, 1,
			"one.pcap: packet 2 at byte offset 100: truncated capture: unexpected EOF; the 1 packet before it is reported", "", false},
		{"a damaged file does not stop the others", []string{"pcap", "-q", "truncated.pcap", "udp-vlan.pcap"}, 1,
			"packet 13 at byte offset 993", "53/udp open  domain", false},
		{"not a capture: no report", []string{"pcap", text}, 2, "not a pcap or pcapng file: unknown magic number", "", true},
		{"not a capture, as json: no document", []string{"pcap", "--format", "json", text}, 2, "not a pcap or pcapng file", "", true},
		{"not a capture beside a capture", []string{"pcap", "-q", text, "udp-vlan.pcap"}, 2, "not a pcap or pcapng file", "53/udp open  domain", false},
		{"missing file", []string{"pcap", "nothere.pcap"}, 2, "nothere.pcap: no such file", "", true},
		{"directory", []string{"pcap", "."}, 2, "is a directory", "", true},
		{"no files", []string{"pcap"}, 2, "give one or more capture files", "", true},
		{"stdin twice", []string{"pcap", "-", "-"}, 2, "given twice", "", true},
		{"write over an input", []string{"pcap", "-w", "loopback.pcap", "loopback.pcap"}, 2, "--write loopback.pcap would overwrite an input", "", true},
		{"report over an input", []string{"pcap", "-o", "./loopback.pcap", "loopback.pcap"}, 2, "--output loopback.pcap would overwrite an input", "", true},
		{"packets and json on stdout", []string{"pcap", "--packets", "--format", "json", "loopback.pcap"}, 2, "-o FILE", "", true},
		{"open and show", []string{"pcap", "--open", "--show", "closed", "loopback.pcap"}, 2, "exclude each other", "", true},
		{"bad format", []string{"pcap", "--format", "yaml", "loopback.pcap"}, 2, "unknown output format", "", true},
		{"bad bound", []string{"pcap", "--max-flows", "0", "loopback.pcap"}, 2, "must be positive", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runPcapCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errs, tt.stderr)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tt.stdout)
			}
			if tt.stdoutNone && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errs, "\n") > 0 && strings.Contains(errs, "panic") {
				t.Errorf("panic: %s", errs)
			}
		})
	}
}

// wantComments are the packet comments -w writes for tcp-ethernet.pcap.
var wantComments = []string{
	"",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service webcache (8080/tcp on 10.0.0.5): World Wide Web (WWW) caching service",
	"service webcache (8080/tcp on 10.0.0.5): World Wide Web (WWW) caching service",
	"service mysql (3306/tcp on 10.0.0.5): MySQL database service",
	"service mysql (3306/tcp on 10.0.0.5): MySQL database service",
	"service ssh (22/tcp on 10.0.0.5): Secure Shell (SSH) service",
	"service ssh (22/tcp on 10.0.0.5): Secure Shell (SSH) service",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"service http (80/tcp on 10.0.0.5): Hypertext Transfer Protocol (HTTP) for World Wide Web (WWW) services",
	"",
}

// TestPcapWrite checks the annotated copy: every packet, each with its
// comment, read back with pcapgo.
func TestPcapWrite(t *testing.T) {
	chdir(t, pcapDir)
	annotated := filepath.Join(t.TempDir(), "annotated.pcapng")
	if _, errs, code := runPcapCLI(t, nil, "pcap", "-q", "--lang", "en", "-w", annotated, "tcp-ethernet.pcap"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	orig, _ := os.ReadFile("tcp-ethernet.pcap")
	or, _ := pcapgo.NewReader(bytes.NewReader(orig))
	file, err := os.Open(annotated)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	ng, err := pcapgo.NewNgReader(file, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range wantComments {
		data, ci, opts, err := ng.ReadPacketDataWithOptions()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		odata, oci, _ := or.ReadPacketData()
		if !bytes.Equal(data, odata) || !ci.Timestamp.Equal(oci.Timestamp) || ci.Length != oci.Length {
			t.Errorf("packet %d differs from the original", i+1)
		}
		got := strings.Join(opts.Comments, "|")
		if got != want {
			t.Errorf("packet %d comment %q, want %q", i+1, got, want)
		}
	}
	if _, _, _, err := ng.ReadPacketDataWithOptions(); err != io.EOF {
		t.Errorf("after the last packet: %v, want EOF", err)
	}
}

// TestPcapWriteTshark checks that tshark shows the comments, as the
// README says. CI installs tshark; elsewhere the test is skipped without it.
func TestPcapWriteTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tshark is not installed (apt-get install tshark)")
		}
		t.Skip("tshark is not installed")
	}
	chdir(t, pcapDir)
	annotated := filepath.Join(t.TempDir(), "annotated.pcapng")
	if _, errs, code := runPcapCLI(t, nil, "pcap", "-q", "--lang", "en", "-w", annotated, "tcp-ethernet.pcap", "multi.pcapng"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cmd := exec.Command(tshark, "-r", annotated, "-T", "fields", "-e", "frame.comment")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user profile
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := append(append([]string(nil), wantComments...),
		"service ssh (22/tcp on 10.2.0.5): Secure Shell (SSH) service",
		"service ssh (22/tcp on 10.2.0.5): Secure Shell (SSH) service",
		"service telnet (23/tcp on 10.2.0.6): Telnet service",
		"service telnet (23/tcp on 10.2.0.6): Telnet service",
		"",
		"service redis (6379/tcp on 127.0.0.1): Redis key-value store",
		"service redis (6379/tcp on 127.0.0.1): Redis key-value store",
		"service domain (53/udp on 2001:db8::53): Domain name service (such as BIND)",
		"service domain (53/udp on 2001:db8::53): Domain name service (such as BIND)",
		"service tftp (69/udp on 10.2.0.7): Trivial File Transfer Protocol (TFTP)",
		"service unknown (41004/udp on 10.2.0.9)",
	)
	if len(lines) != len(want) {
		t.Fatalf("tshark shows %d packets, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("frame %d: tshark shows %q, want %q", i+1, lines[i], want[i])
		}
	}
}

// TestPcapSummarySaysEvictions checks that the report itself, not only
// stderr, says how many flows were closed early.
func TestPcapSummarySaysEvictions(t *testing.T) {
	out, errs, code := runCLI(t, "pcap", "-q", "--max-flows", "1", "--format", "json", filepath.Join(pcapDir, "tcp-ethernet.pcap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Summary struct {
			Capture *struct {
				Packets     int `json:"packets"`
				Flows       int `json:"flows"`
				EvictedFull int `json:"evicted_full"`
			} `json:"capture"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Summary.Capture
	if c == nil || c.Packets == 0 || c.EvictedFull == 0 || c.EvictedFull >= c.Flows {
		t.Errorf("summary capture = %+v, want packets and some (not all) flows evicted early", c)
	}
}

// TestPcapInterrupted checks Ctrl-C while captures are read: pcap still
// writes a whole (empty) report and exits 130, as do diff and audit
// reading captures, rather than blaming the file.
func TestPcapInterrupted(t *testing.T) {
	chdir(t, pcapDir)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("groups:\n  - name: lo\n    targets: [127.0.0.2]\n    allow: [ssh]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name   string
		args   []string
		stdout string // must contain
		stderr string
	}{
		{"pcap", []string{"pcap", "-q", "--format", "json", "lab-lo.pcap"}, `"interrupted": true`, "interrupted; results so far are written"},
		{"diff", []string{"diff", "lab-lo.pcap", "loopback.pcap"}, "", "portscan: interrupted\n"},
		{"audit --from", []string{"audit", "--policy", policy, "--from", "lab-lo.pcap"}, "", "portscan: interrupted\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, resolve: fakeResolve}
			code := runWith(ctx, g, append([]string{"--color", "never"}, tt.args...))
			if code != exitInterrupted || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 130, %q, %q", code, out.String(), errb.String(), tt.stdout, tt.stderr)
			}
		})
	}
}
