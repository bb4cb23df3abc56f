package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// recorder is a Sink that keeps the events it gets, in order.
type recorder struct {
	events []string
	info   result.Info
	ports  []result.Port
	sum    *result.Summary
	fail   map[string]error // event name -> error to return
}

func (r *recorder) Begin(i result.Info) error {
	r.events = append(r.events, "begin")
	r.info = i
	return r.fail["begin"]
}

func (r *recorder) Port(p result.Port) error {
	r.events = append(r.events, "port")
	r.ports = append(r.ports, p)
	return r.fail["port"]
}

func (r *recorder) Host(result.Host) error {
	r.events = append(r.events, "host")
	return r.fail["host"]
}

func (r *recorder) End(s result.Summary) error {
	r.events = append(r.events, "end")
	r.sum = &s
	return r.fail["end"]
}

func fixtureSource(t *testing.T, name string) Source {
	t.Helper()
	return File(filepath.Join(fixtureDir, name))
}

// TestAnalyzeSameAsPipeline checks that Analyze reports what Reader,
// Decoder and Analyzer report when driven by hand, for every fixture.
func TestAnalyzeSameAsPipeline(t *testing.T) {
	label := services.Default().Lookup
	for _, name := range []string{"tcp-ethernet.pcap", "tcp-ethernet.pcap.gz", "udp-vlan.pcap", "ipv6-sll.pcap",
		"sll2.pcapng", "multi.pcapng", "loopback.pcap", "raw.pcap.gz", "lab-lo.pcap", "dhcp.pcap", "tshark-lo.pcapng"} {
		t.Run(name, func(t *testing.T) {
			data, err := readFixtureBytes(name)
			if err != nil {
				t.Fatal(err)
			}
			want, _, an := analyze(t, data, Options{Label: label})
			var rec recorder
			st, err := Analyze(context.Background(), []Source{Stream(name, bytes.NewReader(data))},
				AnalyzeOptions{Options: Options{Label: label}}, &rec)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := brief(rec.ports), brief(want); !slices.Equal(got, want) {
				t.Errorf("Analyze reported\n%q\nby hand\n%q", got, want)
			}
			if st.Counters != an.Counters() {
				t.Errorf("counters %+v, by hand %+v", st.Counters, an.Counters())
			}
			c := st.Counters
			wantStats := result.CaptureStats{Packets: c.Packets, Skipped: c.SkippedTotal(), Flows: c.Flows,
				EvictedIdle: c.Idle, EvictedFull: c.Full, Unreported: c.Overflow}
			if rec.sum == nil || rec.sum.Capture == nil || *rec.sum.Capture != wantStats || *st.Summary.Capture != wantStats {
				t.Errorf("summary capture stats %+v, want %+v", rec.sum, wantStats)
			}
			first, _ := an.Span()
			if !rec.info.Start.Equal(first) || rec.info.ScanType != "pcap" || len(rec.info.Protocols) != 2 {
				t.Errorf("info %+v, want the first packet's time %v, pcap, tcp and udp", rec.info, first)
			}
		})
	}
}

// failingReader fails every read.
type failingReader struct{}

var errDisk = errors.New("disk on fire")

func (f failingReader) Read(p []byte) (int, error) { return 0, errDisk }

// TestAnalyzeSources checks how the sources' failures are told apart,
// and that none stops the others.
func TestAnalyzeSources(t *testing.T) {
	notCapture := Stream("notes.txt", strings.NewReader("not a capture\n"))
	missing := fixtureSource(t, "nothere.pcap")
	opener := Source{Name: "broken", Open: func() (io.ReadCloser, error) { return nil, errDisk }}
	unreadable := Stream("unreadable", failingReader{})
	tests := []struct {
		name    string
		sources []Source
		is      []error // errors.Is must hold for each
		failed  []string
		packets uint64
		open    int
		noRun   bool // no source is a capture: no begin, no end
	}{
		{"two files are one capture", []Source{fixtureSource(t, "tcp-ethernet.pcap"), fixtureSource(t, "udp-vlan.pcap")},
			nil, nil, 26, 3, false},
		{"truncated keeps its packets", []Source{fixtureSource(t, "truncated.pcap"), fixtureSource(t, "udp-vlan.pcap")},
			[]error{ErrTruncated, io.ErrUnexpectedEOF}, []string{"truncated.pcap"}, 20, 2, false},
		{"not a capture", []Source{notCapture, fixtureSource(t, "udp-vlan.pcap")},
			[]error{ErrNotCapture}, []string{"notes.txt"}, 8, 1, false},
		{"missing file", []Source{missing, fixtureSource(t, "udp-vlan.pcap")},
			[]error{fs.ErrNotExist}, []string{"nothere.pcap"}, 8, 1, false},
		{"open fails", []Source{opener}, []error{errDisk}, []string{"broken"}, 0, 0, true},
		{"read fails", []Source{unreadable, notCapture}, []error{errDisk, ErrNotCapture}, []string{"unreadable", "notes.txt"}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			var failed []string
			st, err := Analyze(context.Background(), tt.sources, AnalyzeOptions{
				OnError: func(e *SourceError) {
					failed = append(failed, filepath.Base(e.Name))
					rec.events = append(rec.events, "error")
				},
			}, &rec)
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("error %v is not %v", err, want)
				}
			}
			if len(tt.is) == 0 && err != nil {
				t.Errorf("error %v", err)
			}
			var se *SourceError
			if len(tt.failed) > 0 && (!errors.As(err, &se) || filepath.Base(se.Name) != tt.failed[0]) {
				t.Errorf("error %v: no *SourceError for %s", err, tt.failed[0])
			}
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("OnError got %q, want %q", failed, tt.failed)
			}
			if st.Sources != len(tt.sources) {
				t.Errorf("%d sources opened, want %d", st.Sources, len(tt.sources))
			}
			if st.Counters.Packets != tt.packets || st.Summary.Open != tt.open {
				t.Errorf("%d packets, %d open ports; want %d, %d", st.Counters.Packets, st.Summary.Open, tt.packets, tt.open)
			}
			if tt.noRun {
				if slices.Contains(rec.events, "begin") || slices.Contains(rec.events, "end") {
					t.Errorf("events %q: want only the errors", rec.events)
				}
				return
			}
			if i := slices.Index(rec.events, "begin"); i < 0 || slices.Contains(rec.events[i:], "error") || rec.events[len(rec.events)-1] != "end" {
				t.Errorf("events %q: want the errors, then begin ... end", rec.events)
			}
		})
	}
}

// TestAnalyzeReadError checks that the position of the damage comes
// through.
func TestAnalyzeReadError(t *testing.T) {
	_, err := Analyze(context.Background(), []Source{fixtureSource(t, "truncated.pcap")}, AnalyzeOptions{}, result.Funcs{})
	var re *ReadError
	if !errors.As(err, &re) || re.Packet != 13 || re.Offset != 993 {
		t.Fatalf("error %v, want a *ReadError at packet 13, offset 993", err)
	}
	want := filepath.Join(fixtureDir, "truncated.pcap") + ": packet 13 at byte offset 993: truncated capture: unexpected EOF"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// many is a capture of more than 2*checkEvery packets, in sections.
func many(t *testing.T) []byte {
	t.Helper()
	one, err := readFixtureBytes("multi.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one, 3*checkEvery/10)
}

// TestAnalyzeCancel checks that a cancelled context stops the reading
// between packets and between sources, and that what was read is
// still reported.
func TestAnalyzeCancel(t *testing.T) {
	data := many(t)
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var rec recorder
		st, err := Analyze(ctx, []Source{Stream("a", bytes.NewReader(data))}, AnalyzeOptions{}, &rec)
		if !errors.Is(err, context.Canceled) || !st.Summary.Interrupted || st.Sources != 0 || st.Counters.Packets != 0 {
			t.Errorf("error %v, stats %+v: want cancelled before the first source", err, st)
		}
		if !slices.Equal(rec.events, []string{"begin", "end"}) || !rec.sum.Interrupted {
			t.Errorf("events %q, summary %+v: want an interrupted, empty run", rec.events, rec.sum)
		}
	})
	t.Run("between packets", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		second := Source{Name: "b", Open: func() (io.ReadCloser, error) {
			cancel() // as Ctrl-C would, once the first is read
			return io.NopCloser(bytes.NewReader(data)), nil
		}}
		var rec recorder
		st, err := Analyze(ctx, []Source{Stream("a", bytes.NewReader(data)), second, Stream("c", bytes.NewReader(data))}, AnalyzeOptions{}, &rec)
		if !errors.Is(err, context.Canceled) || !st.Summary.Interrupted || !rec.sum.Interrupted {
			t.Fatalf("error %v, interrupted %v: want cancelled", err, st.Summary.Interrupted)
		}
		var whole recorder
		all, _ := Analyze(context.Background(), []Source{Stream("a", bytes.NewReader(data))}, AnalyzeOptions{}, &whole)
		if want := all.Counters.Packets + checkEvery; st.Counters.Packets != want || st.Sources != 2 {
			t.Errorf("%d packets from %d sources, want %d from 2", st.Counters.Packets, st.Sources, want)
		}
		if len(rec.ports) == 0 {
			t.Error("nothing reported")
		}
	})
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errDisk }

// TestAnalyzeOutputs checks the packet lines and the annotated copy:
// one line and one packet per packet, flushed before OnRead and the
// report, and the failure of either.
func TestAnalyzeOutputs(t *testing.T) {
	label := services.Default().Lookup
	t.Run("written", func(t *testing.T) {
		var lines, ann bytes.Buffer
		var rec recorder
		var atRead int
		st, err := Analyze(context.Background(), []Source{fixtureSource(t, "tcp-ethernet.pcap"), fixtureSource(t, "multi.pcapng")},
			AnalyzeOptions{Options: Options{Label: label}, Packets: &lines, Annotate: &ann, Info: result.Info{Lang: "en"},
				OnRead: func() {
					atRead = lines.Len()
					rec.events = append(rec.events, "read")
				}}, &rec)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(lines.String(), "\n"); uint64(n) != st.Counters.Packets || atRead != lines.Len() {
			t.Errorf("%d lines (%d bytes at OnRead of %d), want %d lines, all before OnRead", n, atRead, lines.Len(), st.Counters.Packets)
		}
		if !strings.Contains(lines.String(), "10.0.0.5.80(http)") {
			t.Errorf("packet lines lack the service:\n%s", lines.String())
		}
		if rec.events[0] != "read" || rec.events[1] != "begin" {
			t.Errorf("events %q: want OnRead before begin", rec.events)
		}
		r, err := NewReader(&ann)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
		}
		if uint64(r.Packets()) != st.Counters.Packets {
			t.Errorf("annotated copy has %d packets, want %d", r.Packets(), st.Counters.Packets)
		}
	})
	for _, out := range []string{"packets", "annotate", "begin", "port", "end"} {
		t.Run(out+" fails", func(t *testing.T) {
			opt := AnalyzeOptions{Options: Options{Label: label}}
			rec := recorder{fail: map[string]error{out: errDisk}}
			switch out {
			case "packets":
				opt.Packets = errWriter{}
			case "annotate":
				opt.Annotate = errWriter{}
			}
			// The first capture is larger than the line buffer, so that
			// a failing Packets is seen while reading.
			big := Stream("many", bytes.NewReader(many(t)))
			st, err := Analyze(context.Background(), []Source{big, fixtureSource(t, "tcp-ethernet.pcap")}, opt, &rec)
			var oe *OutputError
			if !errors.As(err, &oe) || !errors.Is(err, errDisk) || !strings.HasPrefix(oe.Error(), "writing output: ") {
				t.Fatalf("error %v, want an *OutputError", err)
			}
			if strings.Count(err.Error(), errDisk.Error()) != 1 {
				t.Errorf("error %q: want the failure once", err)
			}
			if rec.events[len(rec.events)-1] != "end" {
				t.Errorf("events %q: the run must still be closed", rec.events)
			}
			reading := out == "packets" || out == "annotate"
			if reading && st.Sources != 1 {
				t.Errorf("%d sources opened after a failing output, want 1", st.Sources)
			}
			if !reading && st.Sources != 2 {
				t.Errorf("%d sources opened, want 2: the sink is written after the reading", st.Sources)
			}
		})
	}
}

// TestAnalyzeNoCapture: when no source is a capture, there is no run to
// report, and the sink sees nothing.
func TestAnalyzeNoCapture(t *testing.T) {
	events := 0
	count := func() { events++ }
	sink := result.Funcs{OnBegin: func(result.Info) { count() }, OnPort: func(result.Port) { count() },
		OnHost: func(result.Host) { count() }, OnEnd: func(result.Summary) { count() }}
	sources := []Source{Stream("notes.txt", strings.NewReader("these are notes, not packets\n")), File("missing.pcap")}
	_, err := Analyze(context.Background(), sources, AnalyzeOptions{}, sink)
	if !errors.Is(err, ErrNotCapture) {
		t.Fatalf("err = %v, want ErrNotCapture", err)
	}
	if events != 0 {
		t.Errorf("the sink saw %d events, want none", events)
	}
}
