package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// labTiming keeps the discovery of silent hosts short on loopback.
var labTiming = []string{"--initial-rtt-timeout", "200ms", "--max-rtt-timeout", "200ms"}

// jsonlRecords splits jsonl output into its records by type.
func jsonlRecords(t *testing.T, out string) map[string][]map[string]any {
	t.Helper()
	recs := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		typ, _ := rec["type"].(string)
		recs[typ] = append(recs[typ], rec)
	}
	return recs
}

// xmlValid checks the XML file at path against nmap's DTD, when xmllint
// and the DTD are installed.
func xmlValid(t *testing.T, path string) {
	t.Helper()
	const dtd = "/usr/share/nmap/nmap.dtd"
	xmllint, err := exec.LookPath("xmllint")
	if _, serr := os.Stat(dtd); err != nil || serr != nil {
		t.Logf("not validated: needs xmllint and %s", dtd)
		return
	}
	if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", dtd, path).CombinedOutput(); err != nil {
		t.Errorf("xmllint %s: %v\n%s", path, err, out)
	}
}

// TestLabSilentHost scans hosts that drop every packet, in a namespace
// whose firewall drops all traffic to 127.0.0.2-127.0.0.5: a lone target
// gets a note, a range a count, --show down a block each, and the
// machine formats a host line each.
func TestLabSilentHost(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "silent")
		ns.Nft("table ip silent {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip daddr 127.0.0.2-127.0.0.5 drop\n\t}\n}\n")
		ns.Reexec(t, t.TempDir())
		return
	}
	var dir string
	lab.ChildData(t, &dir)
	scan := func(args ...string) string {
		t.Helper()
		// Connect discovery, whoever runs the test: raw discovery's
		// notes are tested in ping_lab_test.go.
		out, errs, code := runCLI(t, append(append([]string{"-q", "--unprivileged"}, labTiming...), args...)...)
		if code != 0 {
			t.Fatalf("portscan %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	t.Run("text", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			args     []string
			want     []string
			dontWant []string
		}{
			{"lone target", []string{"-p", "22,80", "127.0.0.2"},
				[]string{"Note: 127.0.0.2 seems down: no answer to 4 probes (no-response). If it is up but drops discovery probes, scan it with --skip-discovery (-Pn).\n",
					"portscan done: 1 host (0 up)"},
				[]string{"portscan report for"}},
			{"lone target -Pn", []string{"-Pn", "-p", "22,80", "127.0.0.2"},
				[]string{"Note: 127.0.0.2 seems down: none of its 2 ports answered 4 probes (no-response).\n"},
				[]string{"--skip-discovery"}},
			{"range", []string{"-p", "22,80", "127.0.0.1-5"},
				[]string{"portscan report for 127.0.0.1\n", "Not shown: 4 down hosts (no-response); --show down lists them\n", "portscan done: 5 hosts (1 up)"},
				[]string{"127.0.0.3", "Note:"}},
			{"range, down shown", []string{"-p", "22,80", "--show", "down", "127.0.0.1-5"},
				[]string{"portscan report for 127.0.0.2\nHost seems down: no answer to 4 probes (no-response).\n",
					"portscan report for 127.0.0.5\nHost seems down: no answer to 4 probes (no-response).\n"},
				[]string{"Not shown: 4 down hosts", "Note:"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := scan(tc.args...)
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				for _, w := range tc.dontWant {
					if strings.Contains(out, w) {
						t.Errorf("output has %q:\n%s", w, out)
					}
				}
			})
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		recs := jsonlRecords(t, scan("-p", "22,80", "--format", "jsonl", "127.0.0.1-5"))
		down := 0
		for _, h := range recs["host"] {
			if h["host"] != "127.0.0.1" {
				down++
				if h["status"] != "down" || h["up"] != false || h["reason"] != "no-response" {
					t.Errorf("host line %v", h)
				}
			}
		}
		if len(recs["host"]) != 5 || down != 4 || recs["summary"][0]["hosts_down"] != float64(4) {
			t.Errorf("host lines %v, summary %v", recs["host"], recs["summary"])
		}
	})
	t.Run("json", func(t *testing.T) {
		var doc struct {
			Hosts []struct{ Host, Status, Reason string }
		}
		if err := json.Unmarshal([]byte(scan("-p", "22,80", "--format", "json", "127.0.0.2")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Hosts) != 1 || doc.Hosts[0].Status != "down" || doc.Hosts[0].Reason != "no-response" {
			t.Errorf("hosts %+v", doc.Hosts)
		}
	})
	t.Run("xml", func(t *testing.T) {
		for _, tc := range []struct {
			name, show string
			hosts      int
		}{{"counted", "", 0}, {"listed", "down", 1}} {
			path := filepath.Join(dir, tc.name+".xml")
			args := []string{"-p", "22,80", "-oX", path, "127.0.0.2"}
			if tc.show != "" {
				args = append(args, "--show", tc.show)
			}
			scan(args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			x := string(data)
			if n := strings.Count(x, `<status state="down" reason="no-response"`); n != tc.hosts || !strings.Contains(x, `<hosts up="0" down="1" total="1">`) {
				t.Errorf("%s: %d down <host>s, want %d:\n%s", tc.name, n, tc.hosts, x)
			}
			xmlValid(t, path)
		}
	})
}

// tarpitPort is where the tarpit lab's firewall sends every TCP port.
const tarpitPort = 9999

// TestLabTarpit scans a host whose firewall redirects every TCP port to
// one listener, as some firewalls and tarpits do: it is flagged in each
// format, and --max-open stops probing it at the cap.
func TestLabTarpit(t *testing.T) {
	if !lab.InChild() {
		ns := lab.NewNamespace(t, "tarpit")
		// Locally generated connections to 127.0.0.1 go through the nat
		// output hook, not prerouting.
		ns.Nft("table ip tarpit {\n\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tip daddr 127.0.0.1 tcp dport != " +
			strconv.Itoa(tarpitPort) + " redirect to :" + strconv.Itoa(tarpitPort) + "\n\t}\n}\n")
		ns.Serve(lab.Service{Kind: lab.AcceptClose, Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tarpitPort)})
		ns.Reexec(t, t.TempDir())
		return
	}
	var dir string
	lab.ChildData(t, &dir)
	scan := func(args ...string) string {
		t.Helper()
		out, errs, code := runCLI(t, append([]string{"-q", "-p", "1-2000"}, args...)...)
		if code != 0 {
			t.Fatalf("portscan %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	t.Run("flagged", func(t *testing.T) {
		path := filepath.Join(dir, "tarpit.xml")
		recs := jsonlRecords(t, scan("--format", "jsonl", "-oX", path, "127.0.0.1"))
		if len(recs["host"]) != 1 {
			t.Fatalf("host lines %v", recs["host"])
		}
		h := recs["host"][0]
		counts, _ := h["counts"].(map[string]any)
		if h["tarpit"] != true || h["cut_short"] != nil || counts["open"].(float64) < 1800 {
			t.Errorf("host line %v", h)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `comment="tarpit: answered open on `) {
			t.Errorf("xml has no tarpit comment")
		}
		xmlValid(t, path)

		text := scan("127.0.0.1")
		for _, w := range []string{"Warning: 127.0.0.1 answered open on ", "a tarpit, or a firewall redirecting every port to one listener?", "on 1 host that looks like a tarpit)"} {
			if !strings.Contains(text, w) {
				t.Errorf("text lacks %q:\n%.2000s", w, text)
			}
		}
	})
	t.Run("max-open", func(t *testing.T) {
		recs := jsonlRecords(t, scan("--max-open", "50", "--format", "jsonl", "127.0.0.1"))
		open := 0
		for _, p := range recs["port"] {
			if p["state"] == "open" {
				open++
			}
		}
		if len(recs["host"]) != 1 {
			t.Fatalf("host lines %v", recs["host"])
		}
		h := recs["host"][0]
		unscanned, _ := h["unscanned"].(float64)
		if open != 50 || h["cut_short"] != true || int(unscanned) != 2000-len(recs["port"]) || unscanned < 1000 {
			t.Errorf("%d open ports of %d reported; host line %v", open, len(recs["port"]), h)
		}
		// Probing stopped there: not every port was probed first.
		if probes := h["probes"].(float64); probes < 50 || probes > 100 {
			t.Errorf("%v probes for 50 open ports", probes)
		}
		text := scan("--max-open", "50", "127.0.0.1")
		if w := "Probing stopped at 50 open ports (the cap on open ports per host); "; !strings.Contains(text, w) || len(regexp.MustCompile(`(?m)^\d+/tcp +open `).FindAllString(text, -1)) != 50 {
			t.Errorf("text lacks %q or lists other than 50 open ports:\n%s", w, text)
		}
	})
}
