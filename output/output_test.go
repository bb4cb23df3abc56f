package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivo/uniseg"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/internal/htmlpage/pagetest"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func entry(port uint16, proto ports.Protocol, name, zh, en string) *services.Entry {
	return &services.Entry{Port: ports.Port{Number: port, Proto: proto}, Name: name, Description: zh, DescriptionEn: en, Source: services.Builtin}
}

var (
	ssh    = entry(22, ports.TCP, "ssh", "安全外壳远程登录", "Secure Shell remote login")
	http   = entry(80, ports.TCP, "http", "网页服务", "World Wide Web")
	mysql  = entry(3306, ports.TCP, "mysql", "MySQL 数据库", "MySQL database")
	https  = entry(443, ports.TCP, "https", "加密网页服务", "HTTP over TLS")
	smtp   = entry(25, ports.TCP, "smtp", "邮件传输", "Simple Mail Transfer")
	domain = entry(53, ports.UDP, "domain", "域名解析", "Domain Name System")
	snmp   = entry(161, ports.UDP, "snmp", "网络管理", "SNMP")
	custom = &services.Entry{Port: ports.Port{Number: 8080, Proto: ports.TCP}, Name: "内部代理", Description: "自定义", Source: "/etc/portscan/extra.tsv"}
)

var (
	local  = netip.MustParseAddr("127.0.0.1")
	local6 = netip.MustParseAddr("::1")
	local2 = netip.MustParseAddr("127.0.0.2")
)

// event is one call on a Writer.
type event struct {
	port *result.Port
	host *result.Host
}

func res(a netip.Addr, name string, n uint16, proto ports.Protocol, st result.State, reason string, rttUs int, ms int, e *services.Entry) event {
	return event{port: &result.Port{
		Host: a, Hostname: name, Port: ports.Port{Number: n, Proto: proto}, State: st, Reason: reason,
		RTT: time.Duration(rttUs) * time.Microsecond, Time: at(ms), Service: e,
	}}
}

func hostEv(h result.Host) event { return event{host: &h} }

// scenario is a run replayed into every format for the golden tests.
type scenario struct {
	name   string
	opt    Options
	info   result.Info
	events []event
	stats  result.Summary
}

func scenarios() []scenario {
	tcpInfo := result.Info{
		Args: []string{"portscan", "-p", "1-1024,3306,8080", "--reason", "localhost", "::1", "127.0.0.2"}, Start: t0,
		ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "1-1024,3306,8080", NumPorts: 1026, Version: "0.1.0", Lang: "zh",
	}
	udpOpenFiltered := func() []event {
		var ev []event
		for p := uint16(1000); p < 1030; p++ {
			ev = append(ev, res(local, "", p, ports.UDP, result.OpenFiltered, result.ReasonNoResponse, 0, 900, nil))
		}
		return ev
	}
	pcapEv := func(a netip.Addr, n uint16, e *services.Entry, reason string, flows int) event {
		ev := res(a, "", n, ports.TCP, result.Open, reason, 0, 0, e)
		ev.port.Source = "pcap"
		ev.port.Time = time.Time{}
		ev.port.Evidence = &result.Evidence{Flows: flows, Clients: 1, PacketsIn: 10, PacketsOut: 8, BytesIn: 1200, BytesOut: 64000, FirstSeen: at(0), LastSeen: at(4000)}
		return ev
	}
	tarpit := func() []event {
		var ev []event
		for p := uint16(1); p <= 120; p++ {
			ev = append(ev, res(local, "", p, ports.TCP, result.Open, result.ReasonSynAck, 40, 100+int(p), nil))
		}
		return append(ev,
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonSynAck, Probes: 130, Counts: map[result.State]int{result.Open: 120},
				Start: at(0), End: at(300), Seq: 1, Tarpit: true, CutShort: true, Unscanned: 1880}),
			hostEv(result.Host{Addr: local2, Reason: result.ReasonNoResponse, Probes: 2, Silent: 2, Start: at(0), End: at(1000), Seq: 2}),
			hostEv(result.Host{Addr: netip.MustParseAddr("127.0.0.3"), Reason: result.ReasonHostUnreach, Probes: 2, Start: at(0), End: at(10), Seq: 3}),
		)
	}
	return []scenario{{
		name: "scan",
		opt:  Options{Reason: true, ShowDown: true, Stylesheet: "file:///usr/share/nmap/nmap.xsl"},
		info: tcpInfo,
		events: []event{
			res(local, "localhost", 22, ports.TCP, result.Open, result.ReasonSynAck, 120, 10, ssh),
			res(local6, "", 443, ports.TCP, result.Open, result.ReasonSynAck, 90, 11, https),
			res(local, "localhost", 3306, ports.TCP, result.Closed, result.ReasonConnRefused, 80, 12, mysql),
			res(local, "localhost", 80, ports.TCP, result.Open, result.ReasonSynAck, 140, 13, http),
			res(local, "localhost", 8080, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1500, custom),
			res(local6, "", 25, ports.TCP, result.Closed, result.ReasonConnRefused, 70, 14, smtp),
			res(local, "localhost", 9999, ports.TCP, result.Open, result.ReasonSynAck, 100, 15, nil),
			res(local6, "", 8080, ports.TCP, result.Open, result.ReasonSynAck, 110, 16, custom),
			hostEv(result.Host{Addr: local, Hostname: "localhost", Up: true, Reason: result.ReasonSynAck, Probes: 1027, Silent: 1,
				Counts: map[result.State]int{result.Open: 3, result.Closed: 1022, result.Filtered: 1}, Start: at(0), End: at(1500)}),
			hostEv(result.Host{Addr: local2, Up: false, Reason: result.ReasonNoResponse, Probes: 2052, Silent: 2052,
				Counts: map[result.State]int{result.Filtered: 1026}, Start: at(0), End: at(2000)}),
			hostEv(result.Host{Addr: local6, Up: true, Reason: result.ReasonSynAck, Probes: 1026,
				Counts: map[result.State]int{result.Open: 2, result.Closed: 1024}, Start: at(0), End: at(1200)}),
		},
		stats: result.Summary{Start: t0, End: at(2500), HostsUp: 2, HostsDown: 1, Probes: 4105, Open: 5},
	}, {
		name: "interrupted",
		opt:  Options{Lang: "en"},
		info: tcpInfo,
		events: []event{
			res(local, "localhost", 22, ports.TCP, result.Open, result.ReasonSynAck, 120, 10, ssh),
			res(local6, "", 443, ports.TCP, result.Open, result.ReasonSynAck, 90, 11, https),
			res(local6, "", 25, ports.TCP, result.Closed, result.ReasonConnRefused, 70, 14, smtp),
			hostEv(result.Host{Addr: local, Hostname: "localhost", Up: true, Reason: result.ReasonSynAck, Probes: 1026,
				Counts: map[result.State]int{result.Open: 1, result.Closed: 1025}, Start: at(0), End: at(900)}),
		},
		stats: result.Summary{Start: t0, End: at(1000), HostsUp: 1, Probes: 1500, Open: 2, Interrupted: true},
	}, {
		name: "udp",
		opt:  Options{},
		info: result.Info{Args: []string{"portscan", "-sU", "-p", "53,161,1000-1029", "localhost", "127.0.0.2"}, Start: t0, ScanType: "udp",
			Protocols: []ports.Protocol{ports.UDP}, PortsSpec: "53,161,1000-1029", NumPorts: 32, Version: "0.1.0", Lang: "en"},
		events: append(append([]event{
			res(local, "", 53, ports.UDP, result.Open, result.ReasonUDPResponse, 300, 5, domain),
			res(local2, "", 53, ports.UDP, result.Closed, result.ReasonPortUnreach, 250, 6, domain),
			res(local2, "", 161, ports.UDP, result.OpenFiltered, result.ReasonNoResponse, 0, 900, snmp),
		}, udpOpenFiltered()...),
			res(local, "", 161, ports.UDP, result.OpenFiltered, result.ReasonNoResponse, 0, 900, snmp),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonUDPResponse, Probes: 62, Silent: 31,
				Counts: map[result.State]int{result.Open: 1, result.OpenFiltered: 31}, Start: at(0), End: at(900)}),
			hostEv(result.Host{Addr: local2, Up: true, Reason: result.ReasonPortUnreach, Probes: 33, Silent: 1,
				Counts: map[result.State]int{result.Closed: 31, result.OpenFiltered: 1}, Start: at(0), End: at(950)}),
		),
		stats: result.Summary{Start: t0, End: at(1000), HostsUp: 2, Probes: 95, Open: 1},
	}, {
		name: "pcap",
		opt:  Options{Lang: "zh"},
		info: result.Info{Args: []string{"portscan", "pcap", "capture file.pcap"}, Start: t0, ScanType: "pcap", Version: "0.1.0"},
		events: []event{
			pcapEv(local, 22, ssh, result.ReasonSynAck, 3),
			pcapEv(local, 80, http, result.ReasonMidStream, 12),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonSynAck, Source: "pcap",
				Counts: map[result.State]int{result.Open: 2}, Start: at(0), End: at(4000)}),
		},
		stats: result.Summary{Start: t0, End: at(40), HostsUp: 1, Open: 2},
	}, {
		name: "tarpit",
		opt:  Options{Lang: "en"},
		info: result.Info{Args: []string{"portscan", "-p", "1-2000", "--max-open", "120", "127.0.0.1-3"}, Start: t0, ScanType: "connect",
			Protocols: []ports.Protocol{ports.TCP}, PortsSpec: "1-2000", NumPorts: 2000, Version: "0.1.0"},
		events: tarpit(),
		stats:  result.Summary{Start: t0, End: at(1000), HostsUp: 1, HostsDown: 2, Probes: 134, Open: 120},
	}, detectScenario(), macScenarios()[1]}
}

// detectScenario is a run with service detection: names the catalog's
// label confirms and one it does not, TLS with a certificate near its
// end, a port nothing matched whose raw bytes every format must make
// safe, and a UDP reply.
func detectScenario() scenario {
	detected := func(ev event, d result.Service) event {
		ev.port.Detected = &d
		return ev
	}
	cert := &result.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "h2", SNI: "localhost",
		Subject: "CN=localhost", SANs: []string{"localhost", "127.0.0.1"}, Issuer: "CN=localhost",
		NotBefore: t0.AddDate(0, -11, 0), NotAfter: t0.AddDate(0, 0, 10), SelfSigned: true, ChainLength: 1}
	return scenario{
		name: "detect",
		opt:  Options{Lang: "en"},
		info: result.Info{Args: []string{"portscan", "-sV", "-sT", "-sU", "-p", "22,53,443,3306,8080,9999", "localhost"}, Start: t0,
			ScanType: "connect+udp", Protocols: []ports.Protocol{ports.TCP, ports.UDP}, PortsSpec: "22,53,443,3306,8080,9999", NumPorts: 6, Version: "0.1.0"},
		events: []event{
			detected(res(local, "localhost", 22, ports.TCP, result.Open, result.ReasonSynAck, 120, 10, ssh), result.Service{
				Name: "ssh", Product: "OpenSSH", Version: "9.2p1", Info: "Debian 2+deb12u3; protocol 2.0",
				CPE: []string{"cpe:/a:openbsd:openssh:9.2p1"}, Method: result.MethodProbe, Confidence: 10,
				Banner: `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n`}),
			detected(res(local, "localhost", 443, ports.TCP, result.Open, result.ReasonSynAck, 90, 11, https), result.Service{
				Name: "http", Tunnel: "ssl", Product: "nginx", Version: "1.22.1", CPE: []string{"cpe:/a:igor_sysoev:nginx:1.22.1"},
				Method: result.MethodProbe, Confidence: 10, Banner: `HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n`, TLS: cert}),
			detected(res(local, "localhost", 8080, ports.TCP, result.Open, result.ReasonSynAck, 100, 12, custom), result.Service{
				Name: "http", Product: "SimpleHTTPServer", Info: "Python 3.11.2", Method: result.MethodProbe, Confidence: 10}),
			// What no matcher knew, with the bytes of a hostile server
			// left raw: every format must make them safe itself.
			detected(res(local, "localhost", 9999, ports.TCP, result.Open, result.ReasonSynAck, 100, 13, nil), result.Service{
				Method: result.MethodProbe, Banner: "\x1b]0;owned\a\xff<x>&\"", Info: "bad \xfe utf-8"}),
			res(local, "localhost", 3306, ports.TCP, result.Closed, result.ReasonConnRefused, 80, 14, mysql),
			detected(res(local, "localhost", 53, ports.UDP, result.Open, "dns-response id match", 300, 15, domain), result.Service{
				Name: "domain", Product: "ISC BIND", Version: "9.18.24", CPE: []string{"cpe:/a:isc:bind:9.18.24"},
				Method: result.MethodProbe, Confidence: 10}),
			hostEv(result.Host{Addr: local, Hostname: "localhost", Up: true, Reason: result.ReasonSynAck, Probes: 12,
				Counts: map[result.State]int{result.Open: 5, result.Closed: 1}, Start: at(0), End: at(1500)}),
		},
		stats: result.Summary{Start: t0, End: at(2500), HostsUp: 1, Probes: 12, Open: 5},
	}
}

var goldenExt = map[string]string{"text": "txt", "jsonl": "jsonl", "json": "json", "csv": "csv", "xml": "xml", "grepable": "gnmap", "html": "html"}

// render replays sc into format and returns what was written.
func render(t testing.TB, format string, sc scenario) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, sc.opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(sc.info); err != nil {
		t.Fatal(err)
	}
	for _, ev := range sc.events {
		if ev.port != nil {
			err = w.Port(*ev.port)
		} else {
			err = w.Host(*ev.host)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.End(sc.stats); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func goldenPath(sc scenario, format string) string {
	return filepath.Join("testdata", "golden", sc.name+"."+goldenExt[format])
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios() {
		for _, format := range Formats() {
			t.Run(sc.name+"/"+format, func(t *testing.T) {
				golden.Check(t, goldenPath(sc, format), render(t, format, sc))
			})
		}
	}
}

// checkWellFormed fails unless out is a valid document of its format.
func checkWellFormed(t testing.TB, format string, out []byte) {
	t.Helper()
	switch format {
	case "json":
		var doc struct {
			Scan    ScanRecord      `json:"scan"`
			Hosts   []jsonHost      `json:"hosts"`
			Summary json.RawMessage `json:"summary"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("invalid json: %v\n%s", err, out)
		}
		if doc.Summary == nil {
			t.Fatalf("json without summary:\n%s", out)
		}
	case "jsonl":
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		for i, line := range lines {
			var rec struct{ Type string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("line %d: %v: %s", i+1, err, line)
			}
			want := ""
			switch i {
			case 0:
				want = "scan"
			case len(lines) - 1:
				want = "summary"
			}
			if want != "" && rec.Type != want || want == "" && rec.Type != "port" && rec.Type != "host" {
				t.Fatalf("line %d has type %q", i+1, rec.Type)
			}
		}
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("invalid csv: %v", err)
		}
		if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
			t.Fatalf("csv header is %v", rows)
		}
	case "xml":
		d := xml.NewDecoder(bytes.NewReader(out))
		depth, roots := 0, 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("invalid xml: %v\n%s", err, out)
			}
			switch tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					roots++
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if depth != 0 || roots != 1 {
			t.Fatalf("xml has %d roots, depth %d at the end", roots, depth)
		}
	case "grepable":
		checkGrepable(t, out)
	case "html":
		pagetest.Check(t, out)
	}
}

func TestWellFormed(t *testing.T) {
	for _, sc := range scenarios() {
		for _, format := range Formats() {
			t.Run(sc.name+"/"+format, func(t *testing.T) {
				checkWellFormed(t, format, render(t, format, sc))
			})
		}
	}
}

func TestShownPorts(t *testing.T) {
	sc := scenarios()[0]
	out := render(t, "jsonl", sc)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var p PortRecord
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type == "port" {
			got = append(got, p.Host+" "+p.State.String())
		}
	}
	want := []string{"127.0.0.1 open", "::1 open", "127.0.0.1 open", "127.0.0.1 open", "::1 open"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ports shown: %v, want %v", got, want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		format  string
		wantErr error
	}{
		{"text", nil}, {"jsonl", nil}, {"json", nil}, {"csv", nil}, {"xml", nil}, {"XML", nil}, {"grepable", nil},
		{"yaml", ErrFormat}, {"", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			_, err := New(tt.format, io.Discard, Options{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New(%q) error %v, want %v", tt.format, err, tt.wantErr)
			}
		})
	}
}

func TestColor(t *testing.T) {
	sc := scenarios()[0]
	for _, on := range []bool{false, true} {
		sc.opt.Color = on
		out := render(t, "text", sc)
		if has := bytes.Contains(out, []byte("\x1b[")); has != on {
			t.Errorf("Color %v: ANSI codes present %v\n%s", on, has, out)
		}
	}
}

// TestAlignment checks that the DESCRIPTION column starts at the same
// terminal cell on every row, with wide characters in the SERVICE column.
func TestAlignment(t *testing.T) {
	for _, color := range []bool{false, true} {
		sc := scenarios()[0]
		sc.opt.Color = color
		sc.opt.Reason = false
		out := string(render(t, "text", sc))
		strip := func(s string) string {
			for _, code := range []string{"\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"} {
				s = strings.ReplaceAll(s, code, "")
			}
			return s
		}
		var cols []int
		for _, line := range strings.Split(out, "\n") {
			line = strip(line)
			i := strings.Index(line, "DESCRIPTION")
			if i < 0 {
				for _, d := range []string{"Secure Shell", "安全外壳", "网页服务", "自定义", "加密网页服务"} {
					if i = strings.Index(line, d); i >= 0 {
						break
					}
				}
			}
			if i >= 0 {
				cols = append(cols, uniseg.StringWidth(line[:i]))
			}
		}
		if len(cols) < 4 {
			t.Fatalf("found %d table rows in\n%s", len(cols), out)
		}
		// Two tables, one per host: compare within each.
		if !(cols[0] == cols[1] && cols[1] == cols[2]) || !(cols[3] == cols[len(cols)-1]) {
			t.Errorf("description columns start at cells %v\n%s", cols, out)
		}
	}
}

// TestStreaming checks each event reaches the io.Writer before its call
// returns: ports at once for jsonl and csv, at the host's end for the
// others.
func TestStreaming(t *testing.T) {
	sc := scenarios()[0]
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, _ := New(format, &buf, sc.opt)
			if err := w.Begin(sc.info); err != nil {
				t.Fatal(err)
			}
			if buf.Len() == 0 {
				t.Fatal("Begin wrote nothing")
			}
			n := buf.Len()
			if err := w.Port(*sc.events[0].port); err != nil {
				t.Fatal(err)
			}
			immediate := format == "jsonl" || format == "csv"
			if grew := buf.Len() > n; grew != immediate {
				t.Errorf("after Port, output grew %v, want %v", grew, immediate)
			}
			n = buf.Len()
			if err := w.Host(result.Host{Addr: local, Hostname: "localhost", Up: true}); err != nil {
				t.Fatal(err)
			}
			if grew := buf.Len() > n; grew == (format == "csv") {
				t.Errorf("after Host, output grew %v", grew)
			}
		})
	}
}

type failWriter struct{ n int }

var errDisk = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n--; f.n < 0 {
		return 0, errDisk
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	sc := scenarios()[0]
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, _ := New(format, &failWriter{n: 1}, sc.opt)
			var err error
			for _, ev := range sc.events {
				if ev.port != nil {
					err = errors.Join(err, w.Port(*ev.port))
				} else {
					err = errors.Join(err, w.Host(*ev.host))
				}
			}
			err = errors.Join(err, w.End(sc.stats))
			if !errors.Is(err, errDisk) {
				t.Fatalf("error %v, want %v", err, errDisk)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, _ := New(format, &buf, Options{})
			// Events before Begin, and End without a Host call, still
			// give a well-formed document.
			ev := res(local, "", 22, ports.TCP, result.Open, result.ReasonSynAck, 1, 1, ssh)
			if err := w.Port(*ev.port); err != nil {
				t.Fatal(err)
			}
			if err := w.End(result.Summary{Interrupted: true}); err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, format, buf.Bytes())
			if format != "csv" && !bytes.Contains(buf.Bytes(), []byte("22")) {
				t.Errorf("port of an unfinished host lost:\n%s", buf.Bytes())
			}
			if err := w.Port(*ev.port); !errors.Is(err, ErrEnded) {
				t.Errorf("Port after End: %v, want %v", err, ErrEnded)
			}
			if err := w.End(result.Summary{}); !errors.Is(err, ErrEnded) {
				t.Errorf("End after End: %v, want %v", err, ErrEnded)
			}
		})
	}
}

func TestSeconds2(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{120 * time.Microsecond, "0.00012"},
		{12 * time.Microsecond, "0.000012"},
		{3100 * time.Microsecond, "0.0031"},
		{1500 * time.Millisecond, "1.5"},
		{12 * time.Second, "12"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := seconds2(tt.d); got != tt.want {
				t.Errorf("seconds2(%v) = %s", tt.d, got)
			}
		})
	}
}

func TestCommentSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a --reason b", "a - -reason b"},
		{"---", "- - - "},
		{"end-", "end- "},
		{"tab\there", "tab here"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := commentSafe(tt.in); got != tt.want {
				t.Errorf("commentSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextAllHidden(t *testing.T) {
	one := scenario{
		info: result.Info{Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 1},
		events: []event{
			res(local, "", 1, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, nil),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonConnRefused}),
		},
		stats: result.Summary{Start: t0, End: at(100), HostsUp: 1, Probes: 1},
	}
	if got := string(render(t, "text", one)); !strings.Contains(got, "\nThe 1 scanned port on 127.0.0.1 is not shown.\n") {
		t.Errorf("text output of one hidden port:\n%s", got)
	}
	sc := scenario{
		opt:  Options{},
		info: result.Info{Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 3},
		events: []event{
			res(local, "", 1, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, nil),
			res(local, "", 2, ports.TCP, result.Closed, result.ReasonConnRefused, 50, 1, nil),
			res(local, "", 3, ports.TCP, result.Filtered, result.ReasonNoResponse, 0, 1, nil),
			hostEv(result.Host{Addr: local, Up: true, Reason: result.ReasonConnRefused}),
		},
		stats: result.Summary{Start: t0, End: at(100), HostsUp: 1, Probes: 3},
	}
	got := string(render(t, "text", sc))
	for _, want := range []string{
		"All 3 scanned ports on 127.0.0.1 are not shown.\n",
		"Not shown: 2 closed ports (conn-refused), 1 filtered port (no-response)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PORT") {
		t.Errorf("table printed with no ports to list:\n%s", got)
	}
}

// TestConcurrent sends events for many hosts from many goroutines; run
// with -race to check the locking.
func TestConcurrent(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, _ := New(format, &buf, Options{})
			w.Begin(result.Info{Start: t0, ScanType: "connect"})
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := netip.AddrFrom4([4]byte{127, 0, 1, byte(i)})
					for p := range uint16(20) {
						ev := res(a, "", p+1, ports.TCP, result.State(p%5), result.ReasonSynAck, 10, int(p), ssh)
						w.Port(*ev.port)
					}
					w.Host(result.Host{Addr: a, Up: true})
				}()
			}
			wg.Wait()
			if err := w.End(result.Summary{Start: t0, End: at(1), HostsUp: 8}); err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, format, buf.Bytes())
		})
	}
}

// TestTextEscapes writes a host name, service, description and reason
// that carry escape sequences, line breaks, a bidi override and C1
// controls: the text report and the catalog table show them escaped,
// on the lines they belong to.
func TestTextEscapes(t *testing.T) {
	evil := &services.Entry{Port: ports.Port{Number: 80, Proto: ports.TCP}, Name: "h\x1b]0;pwned\a",
		Aliases: []string{"a\u009b2J"}, Table: "\u202e", DescriptionEn: "d\r\n::error::x\u202e", Source: "evil.tsv"}
	sc := scenario{
		opt:  Options{Reason: true, Lang: "en"},
		info: result.Info{Start: t0, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}, NumPorts: 2},
		events: []event{
			res(local, "n\x1b[2J\u2066", 80, ports.TCP, result.Open, "syn-ack\x07", 50, 1, evil),
			res(local, "n\x1b[2J\u2066", 81, ports.TCP, result.Closed, "reset\n::error::r", 50, 1, nil),
			hostEv(result.Host{Addr: local, Hostname: "n\x1b[2J\u2066", Up: true, Reason: "x\x1b"}),
		},
		stats: result.Summary{Start: t0, End: at(100), HostsUp: 1, Probes: 2},
	}
	got := string(render(t, "text", sc))
	for _, want := range []string{
		"portscan report for n\\x1b[2J\\u2066 (127.0.0.1)\n",
		"Not shown: 1 closed port (reset\\n::error::r)\n",
		"80/tcp open  h\\x1b]0;pwned\\a syn-ack\\a d\\r\\n::error::x\\u202e\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text output lacks %q:\n%s", want, got)
		}
	}
	var cat bytes.Buffer
	if err := WriteCatalog(&cat, "text", slices.Values([]*services.Entry{evil}), Options{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{got, cat.String()} {
		if strings.ContainsFunc(out, func(r rune) bool {
			return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == 0x202e || r == 0x2066
		}) {
			t.Errorf("raw control or bidi character in\n%q", out)
		}
	}
	if want := "80/tcp  h\\x1b]0;pwned\\a  a\\u009b2J  \\u202e  d\\r\\n::error::x\\u202e\n"; !strings.HasSuffix(cat.String(), want) {
		t.Errorf("catalog table %q lacks %q", cat.String(), want)
	}
}
