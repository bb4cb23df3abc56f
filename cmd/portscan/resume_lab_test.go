package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/resume"
)

// synCounter counts, in the LAN lab's hosts namespace, the SYNs that
// reach its live hosts: every connect probe of a scan, once each.
const synCounter = `table inet resumelab {
	counter syns {}
	chain input {
		type filter hook input priority -10; policy accept;
		ip daddr 198.18.0.1-198.18.0.5 tcp flags & (syn | ack) == syn counter name syns
	}
}
`

var synPackets = regexp.MustCompile(`packets (\d+)`)

// syns reads the lab's SYN counter and resets it.
func syns(t *testing.T, l *lab.LAN) int {
	t.Helper()
	out := l.Hosts.MustRun("nft", "reset", "counter", "inet", "resumelab", "syns")
	m := synPackets.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("nft counter: %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// hostModel is what a report says of one host: its status and each
// listed port's state; a port listed twice is an error.
type hostModel struct {
	status string
	ports  map[string]string // "22/tcp" -> "open"
}

// readModel reads an output of any format into its hosts.
func readModel(t *testing.T, format, path string) map[string]hostModel {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]hostModel{}
	host := func(addr string) hostModel {
		h, ok := hosts[addr]
		if !ok {
			h = hostModel{ports: map[string]string{}}
			hosts[addr] = h
		}
		return h
	}
	port := func(addr, port, state string) {
		h := host(addr)
		if old, ok := h.ports[port]; ok {
			t.Errorf("%s: %s %s listed twice (%s, %s)", path, addr, port, old, state)
		}
		h.ports[port] = state
	}
	status := func(addr, status string) {
		h := host(addr)
		if h.status != "" {
			t.Errorf("%s: host %s reported twice", path, addr)
		}
		h.status = status
		hosts[addr] = h
	}
	switch format {
	case "jsonl":
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec struct {
				Type, Host, Protocol, State, Status string
				Port                                int
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s: %v: %q", path, err, sc.Bytes())
			}
			switch rec.Type {
			case "port":
				port(rec.Host, fmt.Sprintf("%d/%s", rec.Port, rec.Protocol), rec.State)
			case "host":
				status(rec.Host, rec.Status)
			}
		}
	case "json":
		var doc struct {
			Hosts []struct {
				Host, Status string
				Ports        []struct {
					Port            int
					Protocol, State string
				}
			}
			Summary struct{ Interrupted bool }
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, h := range doc.Hosts {
			status(h.Host, h.Status)
			for _, p := range h.Ports {
				port(h.Host, fmt.Sprintf("%d/%s", p.Port, p.Protocol), p.State)
			}
		}
	case "xml":
		xmlValid(t, path)
		var doc struct {
			Hosts []struct {
				Status struct {
					State string `xml:"state,attr"`
				} `xml:"status"`
				Addresses []struct {
					Addr string `xml:"addr,attr"`
					Type string `xml:"addrtype,attr"`
				} `xml:"address"`
				Ports []struct {
					Protocol string `xml:"protocol,attr"`
					ID       string `xml:"portid,attr"`
					State    struct {
						State string `xml:"state,attr"`
					} `xml:"state"`
				} `xml:"ports>port"`
			} `xml:"host"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, h := range doc.Hosts {
			addr := ""
			for _, a := range h.Addresses {
				if a.Type != "mac" { // the IP address, not the MAC that raw discovery adds
					addr = a.Addr
				}
			}
			status(addr, h.Status.State)
			for _, p := range h.Ports {
				port(addr, p.ID+"/"+p.Protocol, p.State.State)
			}
		}
	case "text":
		report := regexp.MustCompile(`^portscan report for (\S+)`)
		row := regexp.MustCompile(`^(\d+/(?:tcp|udp))\s+(\S+)`)
		cur := ""
		for _, l := range strings.Split(string(data), "\n") {
			if m := report.FindStringSubmatch(l); m != nil {
				cur = m[1]
				status(cur, "up") // only hosts up are reported here
			} else if m := row.FindStringSubmatch(l); m != nil && cur != "" {
				port(cur, m[1], m[2])
			}
		}
	case "grepable":
		line := regexp.MustCompile(`^Host: (\S+) \(.*\)\t(Status|Ports): (.*)`)
		for _, l := range strings.Split(string(data), "\n") {
			m := line.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			if m[2] == "Status" {
				status(m[1], strings.ToLower(m[3]))
				continue
			}
			list, _, _ := strings.Cut(m[3], "\t")
			for _, e := range strings.Split(list, ", ") {
				f := strings.Split(e, "/")
				port(m[1], f[0]+"/"+f[2], f[1])
			}
		}
	default:
		t.Fatalf("no reader for %s", format)
	}
	return hosts
}

// sameModel compares two reports host by host and port by port;
// reports that list no down hosts (text) are compared on the others.
func sameModel(t *testing.T, what string, got, want map[string]hostModel) {
	t.Helper()
	for addr, w := range want {
		g, ok := got[addr]
		if !ok {
			if w.status == "up" {
				t.Errorf("%s: host %s missing", what, addr)
			}
			continue
		}
		if g.status != w.status {
			t.Errorf("%s: host %s is %s, want %s", what, addr, g.status, w.status)
		}
		if !maps.Equal(g.ports, w.ports) {
			diff := 0
			for p, s := range w.ports {
				if g.ports[p] != s {
					diff++
				}
			}
			t.Errorf("%s: host %s: %d ports, want %d; %d differ", what, addr, len(g.ports), len(w.ports), diff)
		}
	}
	for addr := range got {
		if _, ok := want[addr]; !ok {
			t.Errorf("%s: host %s should not be there", what, addr)
		}
	}
}

// progressOf sums what a state says is settled of the hosts in
// flight, and counts those done: how far a run has gone.
func progressOf(st *resume.State) int {
	n := int(st.Progress.DoneThrough) * 3000
	for _, h := range st.Progress.Hosts {
		n += h.Walked + len(h.Ahead)
	}
	return n
}

// TestLabResume scans the LAN lab's five live hosts, 3000 ports each
// (every port listed, so that each one's state is compared), slowed
// to 3000 probes a second (1500 for the kill), is interrupted by SIGINT, SIGTERM or
// SIGKILL, and resumed with portscan --resume STATE alone: every
// output, each of a different format, must then tell exactly what a
// run never interrupted tells, host by host and port by port. The
// lab's firewall counts the SYNs that reach the hosts, which are the
// probes: after SIGINT and SIGTERM at most 2% of the ports may have
// been probed twice; after SIGKILL, at most those settled since the
// last checkpoint (the records written past it, which go), and the
// probes then in flight: with a checkpoint every 25 ms, within 2% too.
func TestLabResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and scans for a minute")
	}
	lab.Require(t)
	l := lab.NewLAN(t)
	l.Hosts.Nft(synCounter)
	bin := binary(t)
	const numPorts = 5 * 3000
	common := []string{"-q", "--show", "closed", "-p", "1-3000", "198.18.0.1-5"}
	run := func(dir string, args ...string) *exec.Cmd {
		cmd := l.Scanner.Command(bin, args...)
		cmd.Dir = dir
		return cmd
	}

	refDir := t.TempDir()
	syns(t, l)
	if out, err := run(refDir, append(common, "--rate", "3000", "--format", "json", "-o", "ref.json")...).CombinedOutput(); err != nil {
		t.Fatalf("the single run: %v: %s", err, out)
	}
	ref := readModel(t, "json", filepath.Join(refDir, "ref.json"))
	single := syns(t, l)
	t.Logf("the single run: %d SYNs for %d ports", single, numPorts)
	if single != numPorts {
		t.Fatalf("the single run sent %d SYNs, want one a port (%d)", single, numPorts)
	}

	for _, tc := range []struct {
		name    string
		sig     syscall.Signal
		outputs []string // formats: the first is -o's, the others nmap's flags
		every   string
		rate    string // probes a second
	}{
		// Checkpoints every 300 ms, so that the test sees the run's
		// progress; the interrupted runs must not lose the 900 probes
		// of an interval, but cut where they stop.
		{"SIGINT", syscall.SIGINT, []string{"json", "xml", "text"}, "300ms", "3000"},
		{"SIGTERM", syscall.SIGTERM, []string{"jsonl", "xml", "grepable"}, "300ms", "3000"},
		// A kill loses what settled since the last checkpoint: at 1500
		// probes a second a checkpoint every 25 ms leaves about 40,
		// and under a heavy load, when writing the state takes longer,
		// still well under the 300 ports of 2%.
		{"SIGKILL", syscall.SIGKILL, []string{"jsonl", "xml", "text"}, "25ms", "1500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			syns(t, l)
			dir := t.TempDir()
			args := append([]string{"--resume", "st.json", "--resume-every", tc.every}, common...)
			args = append(args, "--rate", tc.rate)
			flags := map[string]string{"xml": "--output-xml", "text": "--output-normal", "grepable": "--output-grepable"}
			args = append(args, "--format", tc.outputs[0], "-o", "out."+tc.outputs[0])
			for _, format := range tc.outputs[1:] {
				args = append(args, flags[format], "out."+format)
			}
			var stderr bytes.Buffer
			cmd := run(dir, args...)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Stop it a third of the way or so, as its state says.
			statePath := filepath.Join(dir, "st.json")
			for deadline := time.Now().Add(faultBound); ; time.Sleep(20 * time.Millisecond) {
				if st, err := resume.ReadFile(statePath); err == nil && st != nil && progressOf(st) >= numPorts/3 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("no progress in %s after %v: %s", statePath, faultBound, stderr.Bytes())
				}
			}
			if tc.sig == syscall.SIGKILL {
				time.Sleep(15 * time.Millisecond) // between two checkpoints
			}
			cmd.Process.Signal(tc.sig)
			code := waitBounded(t, cmd, tc.name)
			st, err := resume.ReadFile(statePath)
			if err != nil || st == nil || st.Done {
				t.Fatalf("the state after %s: %+v, %v", tc.name, st, err)
			}
			// Past the checkpoint: what a resumed run truncates, and probes again.
			after := 0
			for _, o := range st.Outputs {
				data, _ := os.ReadFile(filepath.Join(dir, o.Path))
				if o.Format == "jsonl" {
					after = strings.Count(string(data[o.Offset:]), `"type":"port"`)
				}
			}
			first := syns(t, l)
			if tc.sig == syscall.SIGKILL {
				if code != -1 {
					t.Errorf("exit %d, want killed", code)
				}
			} else {
				if code != exitInterrupted || !strings.Contains(stderr.String(), "portscan --resume st.json goes on from here") {
					t.Errorf("exit %d, stderr %q; want 130 and how to go on", code, stderr.String())
				}
				// The documents are whole now, before any resume.
				for _, format := range tc.outputs {
					if format == "json" || format == "xml" {
						readModel(t, format, filepath.Join(dir, "out."+format))
					}
				}
			}

			stderr.Reset()
			again := run(dir, "--resume", "st.json")
			again.Stderr = &stderr
			if err := again.Run(); err != nil {
				t.Fatalf("portscan --resume st.json: %v: %s", err, stderr.Bytes())
			}
			second := syns(t, l)
			if st, _ := resume.ReadFile(statePath); st == nil || !st.Done {
				t.Errorf("the state is not done after the resumed run: %+v", st)
			}
			for _, format := range tc.outputs {
				sameModel(t, format, readModel(t, format, filepath.Join(dir, "out."+format)), ref)
			}
			twice := first + second - single
			t.Logf("%s at %d of %d ports; %d SYNs before, %d after: %d ports probed twice (%.2f%%); %d records past the checkpoint",
				tc.name, numPorts-second, numPorts, first, second, twice, 100*float64(twice)/numPorts, after)
			if tc.sig == syscall.SIGKILL {
				if limit := after + 64; twice > limit {
					t.Errorf("%d ports probed twice after SIGKILL, more than the %d settled past the checkpoint and 64 in flight", twice, after)
				}
			}
			// After SIGKILL the run redoes at most the last interval:
			// 25 ms of a run of about 10 s, within 2% too.
			if limit := numPorts * 2 / 100; twice > limit {
				t.Errorf("%d ports probed twice, more than 2%% (%d)", twice, limit)
			}

			// Done: it says so, exits 0 and sends nothing.
			out, err := run(dir, "--resume", "st.json").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "the scan finished at") || syns(t, l) != 0 {
				t.Errorf("a done state: %v, %q", err, out)
			}
		})
	}
}

// TestLabResumeShard interrupts one shard of a scan with SIGINT in a
// namespace with only lo, resumes it, and compares it with the same
// shard run whole: the same ports, each once; and the state kept each
// host's settled ports in a few numbers, though the shard owns a third
// of them.
func TestLabResumeShard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lab.Require(t)
	ns := lab.NewNamespace(t, "resume-shard")
	bin := binary(t)
	args := []string{"-q", "--show", "closed", "--shard", "2/3", "--seed", "9", "-p", "1-15000", "--rate", "4000",
		"--format", "jsonl", "-o", "out.jsonl", "127.0.0.1-2"}
	whole, part := t.TempDir(), t.TempDir()
	cmd := ns.Command(bin, args...)
	cmd.Dir = whole
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the shard run whole: %v: %s", err, out)
	}
	cmd = ns.Command(bin, append([]string{"--resume", "st.json", "--resume-every", "200ms"}, args...)...)
	cmd.Dir = part
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(part, "st.json")
	for deadline := time.Now().Add(faultBound); ; time.Sleep(20 * time.Millisecond) {
		if st, err := resume.ReadFile(statePath); err == nil && st != nil && progressOf(st) >= 2000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no progress in %s after %v", statePath, faultBound)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitBounded(t, cmd, "SIGINT"); code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
	st, err := resume.ReadFile(statePath)
	if err != nil || st == nil || st.Done || st.Shard != (resume.Shard{Index: 1, Count: 3}) {
		t.Fatalf("the state: %+v, %v", st, err)
	}
	for _, h := range st.Progress.Hosts {
		t.Logf("host %d: %d steps walked, %d settled ahead", h.Index, h.Walked, len(h.Ahead))
		if len(h.Ahead) > 100 {
			t.Errorf("host %d: %d settled steps ahead: the steps the shard does not own hold its walk back", h.Index, len(h.Ahead))
		}
	}
	again := ns.Command(bin, "--resume", "st.json")
	again.Dir = part
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("portscan --resume st.json: %v: %s", err, out)
	}
	want := readModel(t, "jsonl", filepath.Join(whole, "out.jsonl"))
	sameModel(t, "jsonl", readModel(t, "jsonl", filepath.Join(part, "out.jsonl")), want)
	n := 0
	for _, h := range want {
		n += len(h.ports)
	}
	if n < 2*15000/3-100 || n > 2*15000/3+100 {
		t.Errorf("the shard has %d ports of 30000, not about a third", n)
	}
}
