package resume

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
)

// sample is a state as a checkpoint writes it.
func sample() *State {
	return &State{
		Format: FormatName, Version: Version, Saved: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Fingerprint: "sha256:0123", Definition: Definition{"targets": "192.0.2.0/24", "ports": "1-1024"}, Seed: 7,
		Args: []string{"-p", "1-1024", "--resume", "s.json", "192.0.2.0/24"},
		Outputs: []FileState{{Flag: "--output", Path: "out.json", Format: "json", Offset: 120, Head: strings.Repeat("ab", 32),
			Writer: output.State{Format: "json", Hosts: 2}}},
		Summary: Summary{Start: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), HostsUp: 1, HostsDown: 1, Open: 3, Probes: 2000},
		Progress: Progress{DoneThrough: 2, Done: [][2]uint64{{4, 5}}, Hosts: []Host{{
			Index: 3, Addr: netip.MustParseAddr("192.0.2.3"), Up: true, Reason: "syn-ack", TTL: 64, Probes: 12, Walked: 10, Ahead: []int{12, 40},
			Hidden: []Hidden{{State: result.Closed, Reason: "conn-refused", Count: 11, RTT: 11000, Answered: 11}},
			Listed: []Port{{Port: 22, Protocol: ports.TCP, State: result.Open, Reason: "syn-ack", TTL: 64, RTT: 900,
				Detected: &output.DetectedRecord{Name: "ssh", Product: "OpenSSH", Method: "probe", Confidence: 10}}},
		}}},
	}
}

func marshal(t testing.TB, st *State) []byte {
	t.Helper()
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWriteReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if st, err := ReadFile(path); st != nil || err != nil {
		t.Fatalf("ReadFile of no state = %v, %v; want nil, nil", st, err)
	}
	want := sample()
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	want.Done = true
	if err := Write(path, want); err != nil { // over the first
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, got), marshal(t, want)) {
		t.Errorf("read back\n%s\nwant\n%s", marshal(t, got), marshal(t, want))
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".state.json.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestParseRefuses gives Parse what a checkpoint never writes: each is
// refused with a one-line error saying what is wrong, and where.
func TestParseRefuses(t *testing.T) {
	good := marshal(t, sample())
	edit := func(f func(*State)) []byte {
		st := sample()
		f(st)
		return marshal(t, st)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"not json", []byte("portscan\n"), "line 1, column 1"},
		{"other format", []byte(`{"format":"masscan-paused","version":1}`), `not a portscan resume state (format "masscan-paused")`},
		{"newer version", []byte(`{"format":"portscan-resume","version":3}`), "format version 3, this portscan reads version 2"},
		{"older version", []byte(`{"format":"portscan-resume","version":1}`), "format version 1, this portscan reads version 2"},
		{"unknown field", bytes.Replace(good, []byte(`"done"`), []byte(`"dune"`), 1), `unknown field "dune"`},
		{"trailing data", append(append([]byte{}, good...), []byte(" {}")...), "after top-level value"},
		{"wrong type", bytes.Replace(good, []byte(`"seed": 7`), []byte(`"seed": "7"`), 1), "line 11, column 12"},
		{"no args", edit(func(s *State) { s.Args = nil }), "no command line"},
		{"stdout output", edit(func(s *State) { s.Outputs[0].Path = "-" }), "output 1: no flag or file"},
		{"unknown output format", edit(func(s *State) { s.Outputs[0].Format = "yaml" }), `output 1: format "yaml"`},
		{"writer of another format", edit(func(s *State) { s.Outputs[0].Writer.Format = "xml" }), `writer of "xml"`},
		{"negative offset", edit(func(s *State) { s.Outputs[0].Offset = -1 }), "offset -1"},
		{"bad head", edit(func(s *State) { s.Outputs[0].Head = "xyz" }), "head digest"},
		{"negative count", edit(func(s *State) { s.Summary.Open = -1 }), "negative counts"},
		{"done out of order", edit(func(s *State) { s.Progress.Done = [][2]uint64{{6, 7}, {4, 5}} }), "done hosts 4-5 out of order"},
		{"done below the mark", edit(func(s *State) { s.Progress.Done = [][2]uint64{{1, 5}} }), "done hosts 1-5 out of order"},
		{"host done", edit(func(s *State) { s.Progress.Hosts[0].Index = 4 }), "host 4 listed twice, or both done and in flight"},
		{"host twice", edit(func(s *State) { s.Progress.Hosts = append(s.Progress.Hosts, s.Progress.Hosts[0]) }), "host 3 listed twice"},
		{"no address", edit(func(s *State) { s.Progress.Hosts[0].Addr = netip.Addr{} }), "host 3: no address"},
		{"steps out of order", edit(func(s *State) { s.Progress.Hosts[0].Ahead = []int{40, 12} }), "settled step 12 out of order"},
		{"step not ahead", edit(func(s *State) { s.Progress.Hosts[0].Ahead = []int{10, 40} }), "settled step 10 out of order"},
		{"counts disagree", edit(func(s *State) { s.Progress.Hosts[0].Hidden[0].Count = 20 }), "21 ports counted in 12 settled steps"},
		{"unknown state", edit(func(s *State) { s.Progress.Hosts[0].Listed[0].State = result.Unknown }), "listed port 22/tcp in state unknown"},
		{"answered more", edit(func(s *State) { s.Progress.Hosts[0].Hidden[0].Answered = 12 }), "hidden ports"},
		{"bad shard", edit(func(s *State) { s.Shard = Shard{Index: 4, Count: 4} }), "shard 4 of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Parse(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error with %q", st, tc.want)
			}
			if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse: %v\nwant one line with %q", err, tc.want)
			}
		})
	}
	if _, err := Parse(bytes.NewReader(good)); err != nil {
		t.Errorf("the sample itself: %v", err)
	}
}

func TestParseTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxSize+1)
	if _, err := Parse(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than 256 MiB") {
		t.Errorf("Parse of %d bytes: %v", len(big), err)
	}
}

func TestDefinitionDiff(t *testing.T) {
	a := Definition{"targets": "192.0.2.0/24", "ports": "1-1024", "seed": "7"}
	for _, tc := range []struct {
		b    Definition
		want string
	}{
		{Definition{"targets": "192.0.2.0/24", "ports": "1-1024", "seed": "7"}, ""},
		{Definition{"targets": "192.0.2.0/24", "ports": "1-100", "seed": "7"}, `ports: "1-1024" in the state, "1-100" now`},
		{Definition{"targets": "192.0.2.0/24", "ports": "1-1024"}, `seed: "7" in the state, "" now`},
		{Definition{"targets": "192.0.2.0/24", "ports": "1-1024", "seed": "7", "shard": "1/2"}, `shard: "" in the state, "1/2" now`},
	} {
		if got := a.Diff(tc.b); got != tc.want {
			t.Errorf("Diff(%v) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	content := []byte(`{"type":"scan"}` + "\n" + `{"type":"port"}` + "\n" + `{"type":"summ`)
	write := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(content)
	f, _ := os.Open(path)
	head, err := headDigest(f, 32)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fs := FileState{Flag: "--output", Path: path, Format: "jsonl", Offset: 32, Head: head}
	rf, err := fs.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	rf.WriteString("more\n")
	rf.Close()
	if got, _ := os.ReadFile(path); string(got) != string(content[:32])+"more\n" {
		t.Errorf("after Reopen and a write: %q", got)
	}

	write(content[:20])
	if _, err := fs.Reopen(); !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), "holds 20 bytes, the state says 32 were written") {
		t.Errorf("a shorter file: %v", err)
	}
	write(bytes.ToUpper(content))
	if _, err := fs.Reopen(); !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), "does not begin as it did") {
		t.Errorf("another file: %v", err)
	}
	os.Remove(path)
	if _, err := fs.Reopen(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
}

// FuzzParse checks that Parse never panics, and that what it accepts
// it writes back and reads again the same.
func FuzzParse(f *testing.F) {
	f.Add(marshal(f, sample()))
	f.Add([]byte(`{"format":"portscan-resume","version":2}`))
	f.Add([]byte(`{"format":"portscan-resume","version":2,"args":["x"],"outputs":[],"summary":{},"progress":{"done_through":3,"done":[[5,9]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		again, err := Parse(bytes.NewReader(marshal(t, st)))
		if err != nil {
			t.Fatalf("a state Parse accepted does not read back: %v", err)
		}
		if !bytes.Equal(marshal(t, again), marshal(t, st)) {
			t.Errorf("read back differs")
		}
	})
}

// TestRecorderKeepsDetection checkpoints a host in flight whose open
// port detection named: the state keeps what it found, and gives it
// back, with the ports counted and the walk's steps.
func TestRecorderKeepsDetection(t *testing.T) {
	dir := t.TempDir()
	set, _ := ports.ParseSpec("1-100", ports.SpecOptions{})
	path := filepath.Join(dir, "state.json")
	file, _ := os.Create(filepath.Join(dir, "out.json"))
	defer file.Close()
	w, _ := output.New("json", file, output.Options{})
	r := New(Config{Path: path, Every: time.Hour, Args: []string{"x"}, Ports: set, Seed: 3,
		Outputs: []Output{{Flag: "--output", Path: file.Name(), Format: "json", File: file, Writer: w}}}, w)
	defer r.Close()
	addr := netip.MustParseAddr("192.0.2.7")
	if err := r.Begin(result.Info{Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r.Watch(result.Host{Index: 1, Addr: addr, Start: time.Now()})
	r.Watch(result.Host{Index: 1, Addr: addr, Up: true, Reason: "syn-ack"})
	r.Watch(result.Host{Index: 2, Addr: netip.MustParseAddr("192.0.2.8")})
	order := scanner.NewPortOrder(100, 3, addr)
	list := scanner.PortList(set)
	for step := range 5 {
		p := result.Port{Host: addr, Port: list[order.At(step)], State: result.Closed, Reason: "conn-refused", RTT: time.Millisecond}
		if step == 3 {
			p.State, p.Reason = result.Open, "syn-ack"
			p.Detected = &result.Service{Name: "ssh", Product: "OpenSSH", Version: "9.2p1", Method: result.MethodProbe, Confidence: 10}
		}
		r.Port(p)
	}
	r.Port(result.Port{Host: addr, Port: list[order.At(50)], State: result.Closed, Reason: "conn-refused"})
	r.Interrupt()
	st, err := ReadFile(path)
	if err != nil || st == nil {
		t.Fatal(st, err)
	}
	p := st.Progress
	if p.DoneThrough != 0 || len(p.Done) != 0 || len(p.Hosts) != 1 {
		t.Fatalf("progress %+v: want host 1 in flight, host 2 not begun", p)
	}
	h := p.Hosts[0]
	if h.Index != 1 || !h.Up || h.Reason != "syn-ack" || h.Walked != 5 || len(h.Ahead) != 1 || h.Ahead[0] != 50 ||
		len(h.Listed) != 1 || h.Listed[0].Detected == nil || h.Listed[0].Detected.Product != "OpenSSH" || h.Hidden[0].Count != 5 {
		t.Fatalf("host %+v", h)
	}
	s := st.Settled(nil)
	if len(s) != 1 || s[0].Listed[0].Detected.Version != "9.2p1" || s[0].Hidden[0].Answered != 4 {
		t.Errorf("settled %+v", s)
	}
	eng, err := st.Engine(set)
	if err != nil {
		t.Fatal(err)
	}
	ph := eng.Partial(1)
	if eng.Done(1) || eng.Done(2) || ph == nil || ph.Counts[result.Open] != 1 || ph.Counts[result.Closed] != 5 ||
		!ph.Settled(list[order.At(50)]) || !ph.Settled(list[order.At(4)]) || ph.Settled(list[order.At(5)]) {
		t.Errorf("the engine's view: %+v", ph)
	}
}

// TestRecorderKeepsTTL checkpoints a SYN scan's host in flight: the TTL
// of the answer that showed it up, and of each listed port's, are in
// the state, and given back to the engine and the outputs.
func TestRecorderKeepsTTL(t *testing.T) {
	dir := t.TempDir()
	set, _ := ports.ParseSpec("1-100", ports.SpecOptions{})
	path := filepath.Join(dir, "state.json")
	file, _ := os.Create(filepath.Join(dir, "out.jsonl"))
	defer file.Close()
	w, _ := output.New("jsonl", file, output.Options{})
	r := New(Config{Path: path, Every: time.Hour, Args: []string{"x"}, Ports: set, Seed: 3,
		Outputs: []Output{{Flag: "--output", Path: file.Name(), Format: "jsonl", File: file, Writer: w}}}, w)
	defer r.Close()
	addr := netip.MustParseAddr("198.18.65.10")
	if err := r.Begin(result.Info{Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r.Watch(result.Host{Index: 1, Addr: addr, Start: time.Now()})
	r.Watch(result.Host{Index: 1, Addr: addr, Up: true, Reason: result.ReasonEchoReply, TTL: 63})
	order := scanner.NewPortOrder(100, 3, addr)
	list := scanner.PortList(set)
	r.Port(result.Port{Host: addr, Port: list[order.At(0)], State: result.Open, Reason: result.ReasonSynAck, TTL: 63})
	r.Port(result.Port{Host: addr, Port: list[order.At(1)], State: result.Filtered, Reason: result.ReasonAdminProhibited, TTL: 254})
	r.Interrupt()
	st, err := ReadFile(path)
	if err != nil || st == nil {
		t.Fatal(st, err)
	}
	h := st.Progress.Hosts[0]
	if h.TTL != 63 || len(h.Listed) != 1 || h.Listed[0].TTL != 63 {
		t.Fatalf("host %+v", h)
	}
	if s := st.Settled(nil); len(s) != 1 || s[0].Listed[0].TTL != 63 {
		t.Errorf("settled %+v", s)
	}
	eng, err := st.Engine(set)
	if err != nil {
		t.Fatal(err)
	}
	if ph := eng.Partial(1); ph == nil || ph.Reason != result.ReasonEchoReply || ph.TTL != 63 {
		t.Errorf("the engine's view: %+v", ph)
	}
}

// TestRecorderKeepsReasonIP checkpoints a SYN scan's host in flight
// whose listed filtered port a router refused: the router's address is
// in the state (an optional field, the format still 2) and given back to
// the outputs.
func TestRecorderKeepsReasonIP(t *testing.T) {
	dir := t.TempDir()
	set, _ := ports.ParseSpec("1-100", ports.SpecOptions{})
	path := filepath.Join(dir, "state.json")
	file, _ := os.Create(filepath.Join(dir, "out.jsonl"))
	defer file.Close()
	w, _ := output.New("jsonl", file, output.Options{ShowAll: map[result.State]bool{result.Filtered: true}})
	r := New(Config{Path: path, Every: time.Hour, Args: []string{"x"}, Ports: set, Seed: 3, Lists: func(result.State) bool { return true },
		Outputs: []Output{{Flag: "--output", Path: file.Name(), Format: "jsonl", File: file, Writer: w}}}, w)
	defer r.Close()
	addr, router := netip.MustParseAddr("198.18.65.10"), netip.MustParseAddr("198.18.64.1")
	if err := r.Begin(result.Info{Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r.Watch(result.Host{Index: 1, Addr: addr, Up: true, Reason: result.ReasonEchoReply, TTL: 63, Start: time.Now()})
	order := scanner.NewPortOrder(100, 3, addr)
	list := scanner.PortList(set)
	r.Port(result.Port{Host: addr, Port: list[order.At(0)], State: result.Filtered, Reason: result.ReasonAdminProhibited, TTL: 254, ReasonIP: router})
	r.Interrupt()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"reason_ip": "198.18.64.1"`)) || bytes.Count(data, []byte(`"reason_ip"`)) != 1 {
		t.Errorf("state: %s", data)
	}
	st, err := ReadFile(path)
	if err != nil || st == nil {
		t.Fatal(st, err)
	}
	h := st.Progress.Hosts[0]
	if len(h.Listed) != 1 || h.Listed[0].ReasonIP != router {
		t.Fatalf("host %+v", h)
	}
	if s := st.Settled(nil); len(s) != 1 || s[0].Listed[0].ReasonIP != router {
		t.Errorf("settled %+v", s)
	}
	if got := h.Listed[0].result(h); got.ReasonIP != router {
		t.Errorf("replayed port %+v", got)
	}
}
