package main

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabSynScan runs -sS in a namespace with only lo: the text says it
// is a SYN scan, the XML's scaninfo is nmap's type="syn", and -sS -sU
// scans both protocols.
func TestLabSynScan(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "syn-cli")
		ns.Reexec(t, nil)
		return
	}
	port := strconv.Itoa(lab.Listen(t, "tcp", "127.0.0.1:0").Addr().(*net.TCPAddr).Port)
	out, errs, code := runCLI(t, "-sS", "-p", port+",1", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{": syn scan of 2 tcp ports\n", "\n" + port + "/tcp ", " open ", "Not shown: 1 closed port (reset)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	out, errs, code = runCLI(t, "-q", "-sS", "-sU", "-p", "T:"+port+",U:9", "--show", "closed", "-oX", "-", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`<scaninfo type="syn" protocol="tcp" numservices="1" services="` + port + `">`,
		`<scaninfo type="udp" protocol="udp" numservices="1" services="9">`,
		`portid="` + port + `"><state state="open" reason="syn-ack"`,
		`portid="9"><state state="closed" reason="port-unreach"`,
	} {
		if !strings.Contains(strings.ReplaceAll(out, ">\n        <state", "><state"), want) {
			t.Errorf("XML lacks %s:\n%s", want, out)
		}
	}
}

// TestLabSynNeedsCapability runs the binary without CAP_NET_RAW, in a
// namespace with only lo: -sS is one line naming what is missing, exit
// status 2, and nothing is scanned; a connect scan still runs.
func TestLabSynNeedsCapability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ns := lab.NewNamespace(t, "syn-nocap")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found (util-linux)")
	}
	bin := binary(t)
	for name, drop := range map[string][]string{
		"root without CAP_NET_RAW": {"--inh-caps=-all", "--bounding-set=-net_raw"},
		"nobody":                   {"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{"-sS", "-p", "22", "127.0.0.1"}, {"--syn", "-sU", "-p", "22", "127.0.0.1"}} {
				cmd := ns.Command(setpriv, append(append(drop, bin), args...)...)
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
				const want = "portscan: -sS needs root or CAP_NET_RAW (raw sockets): run as root, or use -sT\n"
				if code != 2 || stderr.String() != want || stdout.Len() != 0 {
					t.Errorf("%s: exit %d, stderr %q, stdout %q; want 2 and %q", strings.Join(args, " "), code, stderr.String(), stdout.String(), want)
				}
			}
			// The same user scans with connects.
			cmd := ns.Command(setpriv, append(append(drop, bin), "-q", "-sT", "-p", "1", "127.0.0.1")...)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "1/tcp") && !strings.Contains(string(out), "closed") {
				t.Errorf("-sT without CAP_NET_RAW: %v\n%s", err, out)
			}
		})
	}
}
