package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/raw"
)

func TestNmapPings(t *testing.T) {
	tests := []struct {
		in, want []string
		err      string
	}{
		{in: []string{"-PE", "-PP", "x"}, want: []string{"--ping-echo", "--ping-timestamp", "x"}},
		{in: []string{"-PS22,80", "x"}, want: []string{"--ping-syn=22,80", "x"}},
		{in: []string{"-PS", "22,80", "x"}, want: []string{"--ping-syn=22,80", "x"}},
		{in: []string{"-PS", "x"}, want: []string{"--ping-syn=80", "x"}},
		{in: []string{"-PA", "-PU", "22"}, want: []string{"--ping-ack=80", "--ping-udp=22"}},
		{in: []string{"-PU"}, want: []string{"--ping-udp=40125"}},
		{in: []string{"-PA1-1024"}, want: []string{"--ping-ack=1-1024"}},
		{in: []string{"-Pn", "-PN", "-p", "22"}, want: []string{"-Pn", "-PN", "-p", "22"}},
		{in: []string{"--", "-PE"}, want: []string{"--", "-PE"}},
		{in: []string{"-PX"}, want: []string{"-PX"}}, // pflag refuses it
		{in: []string{"-PE22"}, err: "-PE takes no ports"},
		{in: []string{"-PO"}, err: "-PO (IP protocol ping) is not done"},
		{in: []string{"-PR"}, err: "ARP"},
		{in: []string{"-P0"}, err: "-Pn"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, " "), func(t *testing.T) {
			got, err := nmapPings(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestPingUsageErrors: pings that cannot be sent are one-line usage
// errors (exit 2), before anything is sent; so are the raw ones when
// there are no privileges, or --unprivileged says to act as without.
func TestPingUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-PS0"}, "-PS (--ping-syn): "},
		{[]string{"-PS", "70000"}, "-PS (--ping-syn): "},
		{[]string{"-PSssh"}, "-PS (--ping-syn): "},
		{[]string{"-PUU:53,T:1"}, "1/tcp is not a UDP port"},
		{[]string{"-Pn", "-PE"}, "-Pn (--skip-discovery) skips host discovery"},
		{[]string{"--unprivileged", "-PE"}, "-PE needs raw sockets, and --unprivileged was given"},
		{[]string{"--unprivileged", "-PS22", "-PA"}, "-PA needs raw sockets"},
		{[]string{"-PM"}, "-PM (ICMP address mask ping) is not done"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errs, code := runCLI(t, append(tt.args, "-p", "1", "127.0.0.1")...)
			if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, tt.want)
			}
		})
	}
}

// TestPingUnprivileged runs the binary without CAP_NET_RAW (setpriv
// drops it) in a namespace of its own: a raw ping is a one-line usage
// error, -PS connects to its ports, and plain discovery connects to 80
// and 443, as before raw discovery.
func TestPingUnprivileged(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		lab.RequireRoot(t)
		t.Skip("setpriv not found (util-linux)")
	}
	ns := lab.NewNamespace(t, "unprivileged")
	ns.Listen("tcp", "127.0.0.1:22")
	bin := binary(t)
	run := func(args ...string) (string, string, int) {
		cmd := ns.Command(setpriv, append([]string{"--inh-caps=-all", "--bounding-set=-net_raw", bin, "-q"}, args...)...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	for _, flag := range []string{"-PE", "-PP", "-PA", "-PU"} {
		_, errs, code := run("-sn", flag, "127.0.0.1")
		if want := "portscan: " + flag + " needs raw sockets: run as root or with CAP_NET_RAW"; code != 2 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", flag, code, errs, want)
		}
	}
	out, errs, code := run("-sn", "--format", "jsonl", "-PS22", "127.0.0.1")
	if code != 0 || !strings.Contains(out, `"host":"127.0.0.1","up":true,"status":"up","reason":"syn-ack"`) || strings.Contains(out, `"mac"`) {
		t.Errorf("-PS22: exit %d: %s%s", code, out, errs)
	}
	out, errs, code = run("-sn", "--format", "jsonl", "127.0.0.1")
	if code != 0 || !strings.Contains(out, `"host":"127.0.0.1","up":true,"status":"up","reason":"conn-refused"`) {
		t.Errorf("plain -sn: exit %d: %s%s", code, out, errs)
	}
	// And with privileges, the same host is found by a ping.
	out, err = ns.Run(bin, "-q", "-sn", "--format", "jsonl", "127.0.0.1")
	if err != nil || !strings.Contains(out, `"reason":"echo-reply"`) {
		t.Errorf("as root: %v: %s", err, out)
	}
}

// discoveryLAN is what the parent of a discovery lab test passes to the
// child: the lab, the hosts' MAC, and a directory for files.
type discoveryLAN struct {
	LAN lab.LAN
	MAC string
	Dir string
}

// TestLabDiscoveryOutputs runs -sn on the LAN lab, as root, in every
// format: the hosts up with their MAC address and vendor, the reason and
// the latency, the rest counted; the XML valid against nmap's DTD.
func TestLabDiscoveryOutputs(t *testing.T) {
	const mac = "00:00:0c:5c:a4:01" // a prefix the IEEE registry names
	if !lab.InChild() {
		if err := raw.Check(); err != nil {
			lab.RequireRoot(t)
		}
		l := lab.NewLAN(t)
		l.Hosts.MustRun("ip", "link", "set", "eth0", "address", mac)
		l.Scanner.Reexec(t, discoveryLAN{LAN: *l, MAC: mac, Dir: t.TempDir()})
		return
	}
	var d discoveryLAN
	lab.ChildData(t, &d)
	vendor := ""
	if _, err := os.Stat("/usr/share/ieee-data/oui.txt"); err == nil {
		vendor = "Cisco Systems, Inc"
	}
	xmlPath := filepath.Join(d.Dir, "sn.xml")
	out, errs, code := runCLI(t, "-q", "-sn", "-oX", xmlPath, "-oG", filepath.Join(d.Dir, "sn.gnmap"), "198.18.0.0/24")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	macLine := "MAC Address: 00:00:0C:5C:A4:01 (" + vendor + ")\n"
	if vendor == "" {
		macLine = "MAC Address: 00:00:0C:5C:A4:01 (Unknown)\n"
	}
	for _, want := range []string{
		"portscan report for 198.18.0.1\nHost is up, received arp-response (",
		"s latency).\n" + macLine,
		"portscan report for 198.18.0.7\nHost is up, received arp-response (",
		"portscan report for 198.18.0.254\nHost is up, received echo-reply ttl 64 (", // its own, over loopback
		"Not shown: 247 down hosts (no-response); --show down lists them\n",
		"portscan done: 256 hosts (9 hosts up)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, macLine); n != 8 {
		t.Errorf("%d MAC lines, want 8 (5 hosts that answer, 3 that drop everything):\n%s", n, out)
	}
	if strings.Contains(out, "198.18.0.9\n") {
		t.Errorf("a down host is listed:\n%s", out)
	}
	data, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	xv := ""
	if vendor != "" {
		xv = ` vendor="` + vendor + `"`
	}
	for _, want := range []string{
		`<status state="up" reason="arp-response" reason_ttl="0"></status>` + "\n    " + `<address addr="198.18.0.6" addrtype="ipv4"></address>` +
			"\n    " + `<address addr="00:00:0C:5C:A4:01" addrtype="mac"` + xv + `></address>`,
		`<hosts up="9" down="247" total="256"></hosts>`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("XML lacks %q:\n%s", want, data)
		}
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", "/usr/share/nmap/nmap.dtd", xmlPath).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	}
	gnmap, _ := os.ReadFile(filepath.Join(d.Dir, "sn.gnmap"))
	if want := "Host: 198.18.0.2 ()\tStatus: Up\tMAC: 00:00:0C:5C:A4:01 (" + vendor + ")\n"; !strings.Contains(string(gnmap), want) {
		t.Errorf("grepable lacks %q:\n%s", want, gnmap)
	}
	out, errs, code = runCLI(t, "-q", "-sn", "--format", "jsonl", "198.18.0.0/24")
	recs := jsonlRecords(t, out)
	up, down := 0, 0
	for _, h := range recs["host"] {
		switch {
		case h["up"] == true && h["host"] != "198.18.0.254":
			up++
			if h["mac"] != "00:00:0C:5C:A4:01" || h["reason"] != "arp-response" || vendor != "" && h["vendor"] != vendor {
				t.Errorf("host line %v", h)
			}
		case h["up"] == true:
			if _, ok := h["mac"]; ok {
				t.Errorf("the scanner's own address has a MAC: %v", h)
			}
		default:
			down++
			if _, ok := h["mac"]; ok || h["reason"] != "no-response" || h["probes"] != 2.0 {
				t.Errorf("down host line %v", h)
			}
		}
	}
	if code != 0 || up != 8 || down != 247 {
		t.Errorf("exit %d: %d up with a MAC, %d down; want 8, 247: %s", code, up, down, errs)
	}
}

// routedDiscovery is what the parent of the routed discovery test
// passes to the child.
type routedDiscovery struct {
	Lab   lab.Routed
	Pings lab.PingHosts
}

// TestLabDiscoveryRouted runs -sn beyond a router: the hosts are found
// by the pings asked for, without a MAC (the frames come from the
// router's), and the router itself by ARP.
func TestLabDiscoveryRouted(t *testing.T) {
	if !lab.InChild() {
		l := lab.NewRouted(t)
		pings := l.AddPingHosts(t)
		l.Scanner.Reexec(t, routedDiscovery{Lab: *l, Pings: pings})
		return
	}
	var d routedDiscovery
	lab.ChildData(t, &d)
	l := d.Lab
	live, noEcho := l.Live[0].Addr.String(), d.Pings.NoEcho.Addr.String()
	nl, err := raw.OpenNetlink()
	if err != nil {
		t.Fatal(err)
	}
	r, err := nl.Route(l.Live[0].Addr)
	nl.Close()
	if err != nil || !r.Gateway.IsValid() {
		t.Fatalf("route to %s: %+v, %v", live, r, err)
	}
	router := r.Gateway.String()
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"-PE"}, []string{"portscan report for " + live + "\nHost is up, received echo-reply ttl 63 (", // a hop away
			"portscan report for " + router + "\nHost is up, received arp-response (", "portscan done: 3 hosts (2 hosts up)"},
			[]string{noEcho}},
		{[]string{"-PS443"}, []string{"portscan report for " + live + "\nHost is up, received reset ttl 63 (",
			"portscan report for " + noEcho + "\nHost is up, received syn-ack ttl 63 ("}, nil},
		{[]string{"-PS", "23,443"}, []string{"portscan report for " + noEcho + "\nHost is up, received "}, nil},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string{"-q", "-sn"}, tc.args...), router, live, noEcho)
			out, errs, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "MAC Address:"); n != 1 {
				t.Errorf("%d MAC lines, want the router's alone:\n%s", n, out)
			}
		})
	}
}

// TestPingWithoutRawSockets runs as a process that may not open raw
// sockets (rawCheck says so, as raw.Check does without CAP_NET_RAW):
// the raw pings are refused, and discovery connects.
func TestPingWithoutRawSockets(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, resolve: fakeResolve,
			rawCheck: func() error { return fmt.Errorf("%w: socket(AF_PACKET): operation not permitted", raw.ErrPermission) }}
		code := runWith(context.Background(), g, append([]string{"--color", "never", "-q"}, args...))
		return out.String(), errb.String(), code
	}
	_, errs, code := run("-sn", "-PP", "127.0.0.1")
	if code != 2 || errs != "portscan: -PP needs raw sockets: run as root or with CAP_NET_RAW, or discover by connecting (-PS PORTS, the default 80 and 443)\n" {
		t.Errorf("-PP: exit %d, stderr %q", code, errs)
	}
	out, errs, code := run("-sn", "--format", "jsonl", "127.0.0.1")
	if code != 0 || !strings.Contains(out, `"host":"127.0.0.1","up":true`) || strings.Contains(out, "echo-reply") {
		t.Errorf("-sn: exit %d, want connect discovery: %s%s", code, out, errs)
	}
}
