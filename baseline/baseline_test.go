package baseline

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fakeHost struct {
	addr string
	up   bool
	open map[uint16]string // port -> service
}

// write renders a run of fake hosts in a portscan format.
func write(t testing.TB, format string, hosts []fakeHost) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := output.New(format, &buf, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Begin(result.Info{Args: []string{"portscan"}, Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "1-1024,3306,8080", NumPorts: 1026, Version: "test"})
	for _, h := range hosts {
		a := netip.MustParseAddr(h.addr)
		for n, svc := range h.open {
			p := ports.Port{Number: n, Proto: ports.TCP}
			r := result.Port{Host: a, Port: p, State: result.Open, Reason: result.ReasonSynAck, Time: t0}
			if svc != "" {
				r.Service = &services.Entry{Name: svc, Port: p}
			}
			w.Port(r)
		}
		w.Host(result.Host{Addr: a, Up: h.up, Reason: "syn-ack", Start: t0, End: t0})
	}
	w.End(result.Summary{Start: t0, End: t0.Add(time.Second)})
	return buf.Bytes()
}

var lab1 = []fakeHost{
	{"198.18.0.1", true, map[uint16]string{22: "ssh", 80: "http"}},
	{"198.18.0.2", true, map[uint16]string{22: "ssh"}},
	{"198.18.0.3", true, map[uint16]string{8080: "http-proxy"}},
}

func TestReadFormats(t *testing.T) {
	for _, format := range []string{"jsonl", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			data := write(t, format, lab1)
			run, err := Read("lab."+format, bytes.NewReader(data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range run.Hosts() {
				got = append(got, h.Addr.String()+" "+strings.Join(labelled(h), ","))
			}
			want := []string{"198.18.0.1 22/tcp ssh,80/tcp http", "198.18.0.2 22/tcp ssh", "198.18.0.3 8080/tcp http-proxy"}
			if !slices.Equal(got, want) {
				t.Errorf("hosts %q, want %q", got, want)
			}
			if !run.Start.Equal(t0) {
				t.Errorf("start %v", run.Start)
			}
			if !run.Covers(ports.Port{Number: 3306, Proto: ports.TCP}) || run.Covers(ports.Port{Number: 3307, Proto: ports.TCP}) || run.Covers(ports.Port{Number: 53, Proto: ports.UDP}) {
				t.Errorf("coverage wrong: %v %v", run.Protocols, run.Scanned)
			}
		})
	}
}

func TestReadNmapXML(t *testing.T) {
	run, err := ReadFile("testdata/nmap.xml", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Scanner != "nmap" || !run.Start.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("scanner %q start %v", run.Scanner, run.Start)
	}
	h := run.Host(netip.MustParseAddr("198.18.0.1"))
	if h == nil || h.Hostname != "web1.lab" || !h.Up {
		t.Fatalf("host %+v", h)
	}
	if got := labelled(h); !slices.Equal(got, []string{"22/tcp ssh", "80/tcp http", "3306/tcp"}) {
		t.Errorf("open %q", got)
	}
	if st := h.Ports[ports.Port{Number: 443, Proto: ports.TCP}].State; st != result.Filtered {
		t.Errorf("443 %v", st)
	}
	if d := run.Host(netip.MustParseAddr("198.18.0.2")); d == nil || d.Up {
		t.Errorf("down host %+v", d)
	}
	if !run.Covers(ports.Port{Number: 3306, Proto: ports.TCP}) || run.Covers(ports.Port{Number: 3307, Proto: ports.TCP}) {
		t.Error("coverage from scaninfo wrong")
	}
}

func TestReadCapture(t *testing.T) {
	// tshark-lo.pcapng ends with an Interface Statistics Block, as every
	// file dumpcap, tshark and Wireshark write does.
	for _, name := range []string{"lab-lo.pcap", "tshark-lo.pcapng"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "pcaps", name)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			run, err := ReadFile(path, ReadOptions{Label: services.Default().Lookup})
			if err != nil {
				t.Fatal(err)
			}
			if run.Scanner != "pcap" || len(run.Hosts()) == 0 {
				t.Fatalf("scanner %q, %d hosts", run.Scanner, len(run.Hosts()))
			}
			open := 0
			for _, h := range run.Hosts() {
				open += len(h.OpenPorts())
			}
			if open == 0 {
				t.Error("no open port in the lab capture")
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "f: empty file"},
		{"text", "\n  hello", "f:2:3: unexpected 'h'"},
		{"jsonl syntax", "{\"type\":\"scan\",\"scanner\":\"portscan\"}\n{\"type\":\"port\",\"host\":}\n", "f:2:23: invalid character '}'"},
		{"jsonl bad host", "{\"type\":\"scan\"}\n\n{\"type\":\"port\",\"host\":\"nope\",\"port\":1,\"protocol\":\"tcp\",\"state\":\"open\"}\n", `f:3: host "nope" is not an IP address`},
		{"jsonl bad state", "{\"type\":\"scan\"}\n{\"type\":\"port\",\"host\":\"192.0.2.1\",\"port\":1,\"protocol\":\"tcp\",\"state\":\"ajar\"}\n", `f:2:`},
		{"jsonl bad type", "{\"type\":\"port\",\"host\":\"192.0.2.1\",\"port\":\"x\"}\n", `f:1:`},
		{"json no scan", `{"hosts": []}`, `f:1:1: no "scan" object`},
		{"json truncated", "{\"scan\": {\n", "f:2:1: unexpected end of JSON"},
		{"xml root", "<html></html>", "f:1:7: root element <html>"},
		{"xml syntax", "<nmaprun>\n<host></hostx>", "f:2:15: host: XML: element <host> closed by </hostx>"},
		{"xml bad port", "<nmaprun><host><status state=\"up\"/><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"70000\"/></ports></host></nmaprun>", `f:1:10: host: invalid portid "70000"`},
		{"pcap truncated", "\xd4\xc3\xb2\xa1\x02\x00", "f: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("f", strings.NewReader(c.data), ReadOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.Is(err, ErrInput) {
				t.Errorf("error %v, want prefix %q wrapping ErrInput", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	lab2 := []fakeHost{
		{"198.18.0.1", true, map[uint16]string{22: "ssh", 8080: "http-proxy"}}, // 80 closed, 8080 opened
		{"198.18.0.2", true, map[uint16]string{22: "ssh-alt"}},                 // relabelled
		{"198.18.0.4", true, map[uint16]string{3306: "mysql"}},                 // appeared
		// 198.18.0.3 gone
	}
	old, err := Read("old.jsonl", bytes.NewReader(write(t, "jsonl", lab1)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	new, err := Read("new.xml", bytes.NewReader(write(t, "xml", lab2)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(old, new, CompareOptions{}); len(d.Changes) != 4 || slices.ContainsFunc(d.Changes, func(c Change) bool { return c.Kind == ServiceChanged }) {
		t.Errorf("labels compared by default: %+v", d.Changes)
	}
	d := Compare(old, new, CompareOptions{Labels: true})
	var got []string
	for _, c := range d.Changes {
		got = append(got, c.mark()+" "+c.Line())
	}
	want := []string{
		"- 198.18.0.1 80/tcp no longer open (http), now not listed",
		"+ 198.18.0.1 8080/tcp newly open (http-proxy), was not listed",
		"~ 198.18.0.2 22/tcp service ssh -> ssh-alt",
		"- host 198.18.0.3 gone (was open: 8080/tcp http-proxy)",
		"+ host 198.18.0.4 appeared (open: 3306/tcp mysql)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := d.Summary(); s != "5 differences: 1 port opened, 1 port closed, 1 service changed, 1 host appeared, 1 host gone." {
		t.Errorf("summary %q", s)
	}
	if !Compare(old, old, CompareOptions{Labels: true}).Empty() {
		t.Error("a run differs from itself")
	}
	var js bytes.Buffer
	if err := d.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"change": "port-opened"`) || !strings.Contains(js.String(), `"port": 8080`) {
		t.Errorf("json %v:\n%s", err, js.String())
	}
}

// TestCompareUnlisted checks what a port that is not open, and not
// listed, is called: the one state the host's counts leave for the ports
// not listed, else "not listed"; "not scanned" outside the run's ports.
func TestCompareUnlisted(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.1")
	tcp := func(n uint16) ports.Port { return ports.Port{Number: n, Proto: ports.TCP} }
	old := NewRun("old")
	old.AddHost(result.Host{Addr: a, Up: true})
	for _, n := range []uint16{22, 80, 443, 8443} {
		old.AddPort(result.Port{Host: a, Port: tcp(n), State: result.Open})
	}
	for _, c := range []struct {
		name   string
		counts map[result.State]int
		want   string
	}{
		{"only closed ports unlisted", map[result.State]int{result.Open: 1, result.Closed: 1023}, "closed"},
		{"only filtered ports unlisted", map[result.State]int{result.Open: 1, result.Filtered: 1023}, "filtered"},
		{"closed and filtered unlisted", map[result.State]int{result.Open: 1, result.Closed: 1000, result.Filtered: 23}, "not listed"},
		{"a state of nmap's own unlisted", map[result.State]int{result.Open: 1, result.Unknown: 1023}, "not listed"},
		{"no counts", nil, "not listed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := NewRun("scan")
			w := run.Writer(WriterOptions{})
			w.Begin(result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "T:1-1024"})
			w.Port(result.Port{Host: a, Port: tcp(22), State: result.Open})
			w.Port(result.Port{Host: a, Port: tcp(80), State: result.Closed}) // counted, not kept
			w.Host(result.Host{Addr: a, Up: true, Counts: c.counts})
			w.End(result.Summary{})
			var got []string
			for _, ch := range Compare(old, run, CompareOptions{}).Changes {
				got = append(got, ch.Line())
			}
			want := []string{"198.18.0.1 80/tcp no longer open, now " + c.want, "198.18.0.1 443/tcp no longer open, now " + c.want,
				"198.18.0.1 8443/tcp no longer open, now not scanned"}
			if !slices.Equal(got, want) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestSummaryCounts checks that every count in the summary agrees with
// its noun.
func TestSummaryCounts(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.1")
	p := func(n uint16) ports.Port { return ports.Port{Number: n, Proto: ports.TCP} }
	d := &Diff{Changes: []Change{
		{Kind: PortOpened, Host: a, Port: p(1)}, {Kind: PortOpened, Host: a, Port: p(2)},
		{Kind: PortClosed, Host: a, Port: p(3)},
		{Kind: ServiceChanged, Host: a, Port: p(4)}, {Kind: ServiceChanged, Host: a, Port: p(5)},
		{Kind: HostAppeared, Host: a}, {Kind: HostAppeared, Host: a},
		{Kind: HostGone, Host: a}, {Kind: HostGone, Host: a},
	}}
	want := "9 differences: 2 ports opened, 1 port closed, 2 services changed, 2 hosts appeared, 2 hosts gone."
	if s := d.Summary(); s != want {
		t.Errorf("summary %q, want %q", s, want)
	}
	d.Changes = d.Changes[2:3]
	if s := d.Summary(); s != "1 difference: 1 port closed." {
		t.Errorf("summary %q", s)
	}
}

func TestWriterKeeps(t *testing.T) {
	run := NewRun("scan")
	var keep ports.Set
	keep.Add(ports.Port{Number: 443, Proto: ports.TCP})
	w := run.Writer(WriterOptions{Keep: &keep})
	w.Begin(result.Info{ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "T:1-1024"})
	a := netip.MustParseAddr("192.0.2.1")
	for _, c := range []struct {
		port  uint16
		state result.State
	}{{22, result.Open}, {23, result.Closed}, {443, result.Filtered}} {
		w.Port(result.Port{Host: a, Port: ports.Port{Number: c.port, Proto: ports.TCP}, State: c.state})
	}
	w.Host(result.Host{Addr: a, Up: true})
	w.End(result.Summary{})
	h := run.Host(a)
	if len(h.Ports) != 2 || h.Ports[ports.Port{Number: 443, Proto: ports.TCP}].State != result.Filtered {
		t.Errorf("kept %v", h.Ports)
	}
	if run.Scanned == nil || run.Scanned.Len(ports.TCP) != 1024 {
		t.Errorf("scanned %v", run.Scanned)
	}
}

// TestReadCaptureErrors checks that a damaged capture's error keeps its
// position, and that a cancelled read says so rather than blaming the file.
func TestReadCaptureErrors(t *testing.T) {
	dir := filepath.Join("..", "testdata", "pcaps")
	t.Run("truncated", func(t *testing.T) {
		path := filepath.Join(dir, "truncated.pcap")
		_, err := ReadFileContext(context.Background(), path, ReadOptions{})
		var re *capture.ReadError
		if !errors.As(err, &re) || re.Packet != 13 || re.Offset != 993 || !errors.Is(err, ErrInput) || !errors.Is(err, capture.ErrTruncated) {
			t.Fatalf("error %v, want ErrInput and a *capture.ReadError at packet 13, offset 993", err)
		}
		if want := path + ": packet 13 at byte offset 993: truncated capture: unexpected EOF"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := ReadFileContext(ctx, filepath.Join(dir, "lab-lo.pcap"), ReadOptions{})
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrInput) {
			t.Errorf("error %v, want context.Canceled, not ErrInput", err)
		}
	})
}
