package capture

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/services"
)

// TestLabCapture records a capture of a lab and names its services by
// content: in a namespace of its own with only lo, it starts Python's
// http.server, OpenSSH's sshd when installed, a TLS 1.2 server with a
// certificate signed by a CA of its own, a Redis-like server and a DNS
// responder, records with tcpdump while a client talks to each, then
// analyses the file.
func TestLabCapture(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		labSkip(t, "tcpdump not installed (apt-get install tcpdump): "+err.Error())
	}
	// tcpdump on a namespace's lo now and then records none of one
	// conversation (seen about once in four runs on a busy machine): the
	// lab is recorded again, in a fresh namespace, until the capture
	// holds a packet to every port the clients talked to. What is judged
	// below is the analysis of that capture.
	var file string
	var want map[string][]string
	for try := 1; ; try++ {
		file, want = recordLab(t, try)
		missing := missingPorts(t, file, want)
		if len(missing) == 0 {
			break
		}
		if try == 3 {
			t.Fatalf("after %d recordings, tcpdump still missed the conversations with %v", try, missing)
		}
		t.Logf("recording %d missed the conversations with %v; recording again", try, missing)
	}

	var rec recorder
	opt := AnalyzeOptions{Options: Options{Label: services.Default().Lookup}}
	if _, err := Analyze(context.Background(), []Source{File(file)}, opt, &rec); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rec.ports {
		got[p.Port.String()] = describe(p)
	}
	for port, ws := range want {
		for _, w := range ws {
			if !strings.Contains(got[port], w) {
				t.Errorf("%s: got %q, want it to contain %q", port, got[port], w)
			}
		}
	}
	if t.Failed() {
		if dir := os.Getenv("PORTSCAN_LAB_KEEP"); dir != "" {
			data, _ := os.ReadFile(file)
			os.WriteFile(filepath.Join(dir, "lab.pcap"), data, 0o644)
		}
		for _, p := range rec.ports {
			t.Log(describe(p))
		}
	}
}

// recordLab starts the lab's servers in a fresh namespace, records its
// lo while a client talks to each, and returns the capture and what each
// port must be named.
func recordLab(t *testing.T, try int) (string, map[string][]string) {
	ns := lab.NewNamespace(t, "capdet")
	file := filepath.Join(t.TempDir(), "lab"+itoa(try)+".pcap")
	stop := startTcpdump(t, ns, file)
	want := map[string][]string{}
	labHTTP(t, ns, want)
	labSSH(t, ns, want)
	labTLS(t, ns, want)
	labRedis(t, ns, want)
	labDNS(t, ns, want)
	stop()
	return file, want
}

// missingPorts lists the ports of want ("7777/tcp") whose conversation
// the capture lacks: no packet sent to the port, or no data from it.
func missingPorts(t *testing.T, file string, want map[string][]string) []string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	to, from := map[string]bool{}, map[string]bool{}
	dec := NewDecoder()
	var d Decoded
	for p, err := r.Next(); err == nil; p, err = r.Next() {
		dec.Decode(p.LinkType, p.Data, &d)
		if d.Kind == TCP || d.Kind == UDP {
			to[itoa(int(d.DstPort))+"/"+d.Proto.String()] = true
			if d.PayloadLen > 0 {
				from[itoa(int(d.SrcPort))+"/"+d.Proto.String()] = true
			}
		}
	}
	var missing []string
	for port := range want {
		if !to[port] || !from[port] {
			missing = append(missing, port)
		}
	}
	sort.Strings(missing)
	return missing
}

func labSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(lab.RequireEnv) != "" {
		t.Fatalf("%s (%s is set)", msg, lab.RequireEnv)
	}
	t.Skip(msg)
}

// startTcpdump records lo of the namespace into file, once tcpdump says
// it listens; the function it returns stops it and waits for the file.
// Immediate mode writes each packet as it comes: otherwise the last ones
// wait in the kernel's buffer and are lost when tcpdump is stopped.
func startTcpdump(t *testing.T, ns *lab.Namespace, file string) func() {
	cmd := ns.Command("tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-Z", "root", "-w", file)
	errs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(errs)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, errs)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tcpdump did not start listening")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		waitForDNSAnswer(file) // on a busy machine tcpdump lags behind
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	t.Cleanup(stop)
	return stop
}

// waitForDNSAnswer waits, for at most ten seconds, until the capture
// holds the lab's last packet: the DNS answer from port 53.
func waitForDNSAnswer(file string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		found := false
		if r, err := NewReader(f); err == nil {
			dec := NewDecoder()
			var d Decoded
			for p, err := r.Next(); err == nil && !found; p, err = r.Next() {
				dec.Decode(p.LinkType, p.Data, &d)
				found = d.Kind == UDP && d.SrcPort == 53
			}
		}
		f.Close()
		if found {
			return
		}
	}
}

// dial connects from inside the namespace, retrying while a server starts.
func dial(t *testing.T, ns *lab.Namespace, network, addr string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := ns.DialContext(ctx, network, addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
