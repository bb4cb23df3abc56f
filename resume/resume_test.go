package resume_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/resume"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/services"
	"github.com/portscan/portscan/shard"
	"github.com/portscan/portscan/targets"
)

// fakeNet answers dials without sockets: port p of host 192.0.2.H is
// open when p%37 == H, closed otherwise; 192.0.2.9 answers nothing. It
// counts the dials of each address and port.
type fakeNet struct {
	mu    sync.Mutex
	dials map[string]int
	total atomic.Int64
	delay time.Duration
}

func (f *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.dials[addr]++
	f.mu.Unlock()
	f.total.Add(1)
	ap := netip.MustParseAddrPort(addr)
	if ap.Addr() == netip.MustParseAddr("192.0.2.9") {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	delay := f.delay
	if ap.Port() == 443 {
		delay *= 10 // 80 answers discovery first: the host's reason is 80's
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if int(ap.Port())%37 == int(ap.Addr().As4()[3]) {
		c1, c2 := net.Pipe()
		c2.Close()
		return c1, nil
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func hostsSeq(list ...string) iter.Seq2[targets.Target, error] {
	return func(yield func(targets.Target, error) bool) {
		for _, s := range list {
			if !yield(targets.Target{Addr: netip.MustParseAddr(s)}, nil) {
				return
			}
		}
	}
}

var (
	formats     = []string{"jsonl", "json", "xml", "text", "grepable", "csv"}
	targetsList = []string{"192.0.2.1", "192.0.2.2", "192.0.2.9", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"}
	opt         = output.Options{ShowDown: true, Reason: true}
	info        = result.Info{Args: []string{"portscan", "-p", "1-300"}, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, Version: "0.1.0", Lang: "en", Seed: 5}
)

func portSet(t testing.TB) *ports.Set {
	s, err := ports.ParseSpec("1-300", ports.SpecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run scans into the files of dir, or goes on from the state at
// statePath; stop, when set, is called with a cancel func once the
// scan is under way.
func run(t *testing.T, dir string, f *fakeNet, stop func(cancel func()), every time.Duration, sh result.Shard) {
	t.Helper()
	statePath := filepath.Join(dir, "state")
	from, err := resume.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	set := portSet(t)
	cfg := scanner.Config{Ports: set, Dial: f.dial, Seed: 5, Concurrency: 6, HostGroup: 3,
		InitialRTTTimeout: 30 * time.Millisecond, MinRTTTimeout: 30 * time.Millisecond, MaxRTTTimeout: 30 * time.Millisecond}
	var owns func(uint64, int) bool
	if sh.Sharded() {
		cfg.Shard, cfg.Hosts = sh, uint64(len(targetsList))
		plan, err := shard.New(cfg.Seed, sh, cfg.Hosts, len(scanner.PortList(set)))
		if err != nil {
			t.Fatal(err)
		}
		owns = plan.Owns
	}
	var outs []resume.Output
	var sinks []result.Sink
	if from == nil {
		for _, format := range formats {
			file, err := os.Create(filepath.Join(dir, "out."+format))
			if err != nil {
				t.Fatal(err)
			}
			w, _ := output.New(format, file, opt)
			outs = append(outs, resume.Output{Flag: "--" + format, Path: file.Name(), Format: format, File: file, Writer: w})
		}
	} else {
		if from.Done {
			return
		}
		for _, fs := range from.Outputs {
			file, err := fs.Reopen()
			if err != nil {
				t.Fatal(err)
			}
			w, err := output.Continue(fs.Format, file, opt, info, fs.Writer)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range from.Settled(services.Default().Lookup) {
				if err := output.Restore(w, s); err != nil {
					t.Fatal(err)
				}
			}
			outs = append(outs, resume.Output{Flag: fs.Flag, Path: fs.Path, Format: fs.Format, File: file, Writer: w})
		}
		if cfg.Resume, err = from.Engine(set); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range outs {
		sinks = append(sinks, o.Writer)
		defer o.File.Close()
	}
	rec := resume.New(resume.Config{Path: statePath, Every: every, Args: []string{"-p", "1-300"}, Ports: set, Seed: 5,
		Lists: opt.Lists, Owns: owns, Outputs: outs, From: from}, result.Tee(sinks...))
	defer rec.Close()
	cfg.Watch = rec.Watch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	context.AfterFunc(ctx, rec.Interrupt)
	if stop != nil {
		go stop(cancel)
	}
	if err := rec.Begin(info); err != nil {
		t.Fatal(err)
	}
	sum, err := scanner.Run(ctx, cfg, hostsSeq(targetsList...), rec)
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	if err := rec.End(sum); err != nil {
		t.Fatal(err)
	}
}

// afterDials cancels the run once f has seen n dials.
func afterDials(f *fakeNet, n int64) func(func()) {
	return func(cancel func()) {
		for f.total.Load() < n {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}
}

// TestResumeRun interrupts a scan, resumes it, and compares every
// output with those of a scan never interrupted: the same hosts, in
// the same order where the format has one, with the same ports and
// states; and counts the ports probed twice.
func TestResumeRun(t *testing.T) {
	single := t.TempDir()
	one := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
	run(t, single, one, nil, time.Hour, result.Shard{})

	for _, cut := range []int64{1, 400, 1100, 1800} {
		t.Run(fmt.Sprintf("cut after %d dials", cut), func(t *testing.T) {
			dir := t.TempDir()
			f := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
			run(t, dir, f, afterDials(f, cut), time.Hour, result.Shard{})
			st, err := resume.ReadFile(filepath.Join(dir, "state"))
			if err != nil || st == nil || st.Done {
				t.Fatalf("state after the interruption: %+v, %v", st, err)
			}
			run(t, dir, f, nil, time.Hour, result.Shard{})
			if st, _ := resume.ReadFile(filepath.Join(dir, "state")); st == nil || !st.Done {
				t.Fatalf("state after the resumed run: %+v, want done", st)
			}
			compare(t, single, dir)
			twice := probedTwice(one, f)
			t.Logf("%d dials in one run; %d in two, %d ports probed more often than in one run", one.total.Load(), f.total.Load(), twice)
			if limit := 6 * 300 * 2 / 100; twice > limit {
				t.Errorf("%d ports probed twice, more than 2%% (%d)", twice, limit)
			}
		})
	}
}

// TestResumeAfterKill resumes from a periodic checkpoint, as after
// SIGKILL: the files hold more than the state says, which goes.
func TestResumeAfterKill(t *testing.T) {
	single := t.TempDir()
	one := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
	run(t, single, one, nil, time.Hour, result.Shard{})

	dir := t.TempDir()
	f := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
	statePath := filepath.Join(dir, "state")
	var kept []byte
	run(t, dir, f, func(cancel func()) {
		for f.total.Load() < 900 {
			time.Sleep(time.Millisecond)
		}
		kept, _ = os.ReadFile(statePath) // the last periodic checkpoint
		cancel()
	}, 20*time.Millisecond, result.Shard{})
	if err := os.WriteFile(statePath, kept, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := resume.ReadFile(statePath)
	if err != nil || st == nil || st.Done {
		t.Fatalf("periodic state: %+v, %v", st, err)
	}
	run(t, dir, f, nil, time.Hour, result.Shard{})
	compare(t, single, dir)
	t.Logf("%d ports probed again", probedTwice(one, f))
}

func probedTwice(one, two *fakeNet) int {
	n := 0
	for k, c := range two.dials {
		if c > one.dials[k] {
			n++
		}
	}
	return n
}

// compare checks that each output of dir tells what that of want does.
func compare(t *testing.T, want, dir string) {
	t.Helper()
	for _, format := range formats {
		a, err := os.ReadFile(filepath.Join(want, "out."+format))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "out."+format))
		if err != nil {
			t.Fatal(err)
		}
		na, nb := normal(t, format, a), normal(t, format, b)
		if !slices.Equal(na, nb) {
			t.Errorf("%s differs:\n--- resumed\n%s\n--- single run\n%s", format, strings.Join(nb, "\n"), strings.Join(na, "\n"))
		}
	}
}

var (
	latency = regexp.MustCompile(` \([0-9.]+s latency\)|, received [a-z-]+`)
	timing  = regexp.MustCompile(`scanned in [0-9.]+ s.*|at .* -- |[0-9.]+ seconds`)
)

// normal reduces an output to what a resumed run must reproduce, line
// by line: hosts, ports, states, counts; not times, latencies, probes.
func normal(t *testing.T, format string, data []byte) []string {
	t.Helper()
	var out []string
	switch format {
	case "jsonl":
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("jsonl: %v: %s", err, sc.Bytes())
			}
			switch rec["type"] {
			case "port":
				out = append(out, fmt.Sprint("port ", rec["host"], rec["port"], rec["state"], rec["reason"]))
			case "host":
				// Not its reason: which discovery probe answers first is a race.
				out = append(out, fmt.Sprint("host ", rec["host"], rec["status"], rec["counts"], rec["index"]))
			case "summary":
				out = append(out, fmt.Sprint("summary ", rec["hosts"], rec["hosts_up"], rec["hosts_down"], rec["open"], rec["interrupted"]))
			}
		}
		slices.Sort(out) // jsonl lines come as hosts finish
	case "json":
		var doc struct {
			Hosts []struct {
				Host, Status, Reason string
				Counts               map[string]int
				Ports                []struct {
					Port          int
					State, Reason string
				}
			}
			Summary map[string]any
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		for _, h := range doc.Hosts {
			out = append(out, fmt.Sprint(h.Host, h.Status, h.Counts, h.Ports))
		}
		slices.Sort(out)
		out = append(out, fmt.Sprint(doc.Summary["hosts"], doc.Summary["hosts_up"], doc.Summary["open"], doc.Summary["interrupted"]))
	case "xml":
		var doc struct {
			Hosts []struct {
				Status struct {
					State string `xml:"state,attr"`
				} `xml:"status"`
				Address struct {
					Addr string `xml:"addr,attr"`
				} `xml:"address"`
				Ports []struct {
					ID    string `xml:"portid,attr"`
					State struct {
						State string `xml:"state,attr"`
					} `xml:"state"`
				} `xml:"ports>port"`
				Extra []struct {
					State string `xml:"state,attr"`
					Count string `xml:"count,attr"`
				} `xml:"ports>extraports"`
			} `xml:"host"`
			Stats struct {
				Hosts struct {
					Up    string `xml:"up,attr"`
					Total string `xml:"total,attr"`
				} `xml:"hosts"`
			} `xml:"runstats"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("xml: %v", err)
		}
		for _, h := range doc.Hosts {
			out = append(out, fmt.Sprint(h.Address.Addr, h.Status.State, h.Ports, h.Extra))
		}
		slices.Sort(out)
		out = append(out, fmt.Sprint(doc.Stats.Hosts))
	case "csv":
		out = strings.Split(strings.TrimSpace(string(data)), "\n")
		for i, l := range out {
			f := strings.Split(l, ",")
			out[i] = strings.Join(slices.Concat(f[:10], f[12:13]), ",") // no rtt, time
		}
		slices.Sort(out)
	default: // text, in target order; grepable, as hosts finish
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "Starting portscan") || strings.HasPrefix(l, "# portscan") && strings.Contains(l, "initiated") {
				continue
			}
			out = append(out, timing.ReplaceAllString(latency.ReplaceAllString(l, ""), ""))
		}
		if format == "grepable" {
			slices.Sort(out)
		}
	}
	return out
}

// TestResumeShard interrupts and resumes one shard of a scan: its
// outputs must be those of the shard run whole, and a host's settled
// steps must stay a few numbers although the shard owns only some of
// its ports.
func TestResumeShard(t *testing.T) {
	sh := result.Shard{Index: 1, Count: 3}
	single := t.TempDir()
	one := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
	run(t, single, one, nil, time.Hour, sh)

	dir := t.TempDir()
	f := &fakeNet{dials: map[string]int{}, delay: time.Millisecond}
	run(t, dir, f, afterDials(f, 300), time.Hour, sh)
	st, err := resume.ReadFile(filepath.Join(dir, "state"))
	if err != nil || st == nil || st.Done {
		t.Fatalf("state after the interruption: %+v, %v", st, err)
	}
	for _, h := range st.Progress.Hosts {
		if len(h.Ahead) > 20 {
			t.Errorf("host %d: %d settled steps ahead of %d: the steps the shard does not own hold it back", h.Index, len(h.Ahead), h.Walked)
		}
	}
	run(t, dir, f, nil, time.Hour, sh)
	compare(t, single, dir)
	twice := probedTwice(one, f)
	t.Logf("%d dials in one run of the shard; %d in two, %d ports probed more often", one.total.Load(), f.total.Load(), twice)
	if limit := int(one.total.Load()) * 2 / 100; twice > limit {
		t.Errorf("%d ports probed twice, more than 2%% (%d)", twice, limit)
	}
}
