package merge

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

const (
	scanLine = `{"type":"scan","scanner":"portscan","version":"0.1.0","args":["portscan"],"scan_type":"connect","protocols":["tcp"],"ports":"T:22","num_ports":1}`
	portLine = `{"type":"port","host":"10.0.0.1","port":22,"protocol":"tcp","state":"open","reason":"syn-ack","service":"ssh","description":"","description_en":"","service_source":"builtin","rtt_ms":0.1,"source":"scan"}`
	hostLine = `{"type":"host","host":"10.0.0.1","up":true,"status":"up","reason":"syn-ack","latency_ms":0.1,"probes":1,"silent":0,"counts":{"open":1},"source":"scan"}`
	xmlHead  = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<!DOCTYPE nmaprun>` + "\n"
	xmlRoot  = `<nmaprun scanner="nmap" args="portscan" start="1796137200" version="portscan 0.1.0" xmloutputversion="1.05">` + "\n"
	xmlHostA = `<host><status state="up" reason="syn-ack" reason_ttl="0"></status><address addr="10.0.0.1" addrtype="ipv4"></address></host>` + "\n"
)

// TestOpenBadInput: a file that is no result file, or a broken one, is
// one short line naming the file and where, wrapping ErrInput.
func TestOpenBadInput(t *testing.T) {
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	tests := []struct {
		name, content, want string
	}{
		{"text", "hello\n", `F:1:1: unexpected 'h'; expected portscan jsonl, json or XML, or nmap XML`},
		{"after white space", "\n\n  %x", `F:3:3: unexpected '%'; expected portscan jsonl, json or XML, or nmap XML`},
		{"binary", "\x00\x01", `F:1:1: unexpected '\x00'; expected portscan jsonl, json or XML, or nmap XML`},
		{"not UTF-8", "\xff\xfe\x00a", `F: UTF-16 byte order mark; expected UTF-8 text`},
		{"empty", "", `F: empty file; expected portscan jsonl, json or XML, or nmap XML`},
		{"white space only", " \n\t", `F: empty file; expected portscan jsonl, json or XML, or nmap XML`},
		{"a capture", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", `F: a packet capture, not a result file: merge joins the outputs of scans; read captures with portscan pcap`},
		{"jsonl without scan line", lines(portLine), `F:1:1: a "port" line before any "scan" line: not portscan jsonl output`},
		{"jsonl syntax", lines(scanLine, portLine, `{"type":"host","host":"10.0.0.1",up}`), `F:3:34: invalid character 'u' looking for beginning of object key string`},
		{"jsonl bad state", lines(scanLine, strings.Replace(portLine, `"open"`, `"opne"`, 1)), `F:2: unknown port state "opne"`},
		{"jsonl bad host", lines(scanLine, strings.Replace(hostLine, `"10.0.0.1"`, `"\u001b]0;x"`, 1)), `F:2: host "\x1b]0;x" is not an IP address`},
		{"jsonl bad protocol", lines(scanLine, strings.Replace(portLine, `"tcp"`, `"ddp"`, 1)), `F:2: protocol ddp: want tcp or udp`},
		{"jsonl wrong type", lines(scanLine, strings.Replace(portLine, `"port":22`, `"port":"22"`, 1)), `F:2:45: field "port": expected uint16, found string`},
		{"jsonl bad shard", lines(strings.Replace(scanLine, `"num_ports":1`, `"num_ports":1,"shard":{"index":4,"count":4}`, 1)),
			`F:1: shard index 4 of 4: want an index from 0 to the count less one, and a count of 2 or more`},
		{"jsonl line too long", lines(scanLine, `{"type":"port","x":"`+strings.Repeat("a", maxLine)+`"}`), `F:2: line longer than 1048576 bytes`},
		{"json after the document", `{"scan":{"scanner":"portscan","args":[]},"hosts":[]}` + "\n x", `F:2:2: data after the JSON document (byte offset 54)`},
		{"json bad host", `{"scan":{"scanner":"portscan","args":[]},` + "\n" + `"hosts":[{"host":"nope"}]}`, `F:2:10: hosts[0]: host "nope" is not an IP address`},
		{"json cut short", `{"scan":{"scanner":"portscan","args":[]},"hosts":[{"host":"10.0.0.1"`, `F:1:69: hosts[0]: unexpected end of JSON`},
		{"json type error in a host", `{"scan":{"scanner":"portscan","args":[]},"hosts":[{"host":"10.0.0.1"},` + "\n" + `  {"host":"10.0.0.2","probes":"a"}]}`,
			`F:2:34: hosts[1]: field "probes": expected int, found string`},
		{"json without scan", `{"hosts":[]}`, `F:1:2: key "hosts" before "scan": not portscan json output`},
		{"json not an object", `{"scan":[1]}`, `F:1:10: scan: json: cannot unmarshal array into Go value of type output.ScanRecord`},
		{"xml other root", xmlHead + "<html></html>", `F:3:1: root element <html>; expected <nmaprun> (nmap XML)`},
		{"xml second root", xmlHead + xmlRoot + "</nmaprun>\n<nmaprun></nmaprun>", `F:5:1: a second root element <nmaprun>; an XML file has one (byte offset 178)`},
		{"xml text after", xmlHead + xmlRoot + "</nmaprun>\nx", `F:5:1: text after the root element (byte offset 178)`},
		{"xml host without address", xmlHead + xmlRoot + `<host><status state="up"/></host></nmaprun>`, `F:4:1: host: no IPv4 or IPv6 address`},
		{"xml bad portid", xmlHead + xmlRoot + `<host><address addr="10.0.0.1"/><ports><port protocol="tcp" portid="x"/></ports></host></nmaprun>`,
			`F:4:1: host: invalid portid "x"`},
		{"xml bad status reason_ttl", xmlHead + xmlRoot + strings.Replace(xmlHostA, `reason_ttl="0"`, `reason_ttl="300"`, 1) + "</nmaprun>",
			`F:4:1: host: status: reason_ttl "300" is not a TTL (0 to 255)`},
		{"xml bad port reason_ttl", xmlHead + xmlRoot + `<host><address addr="10.0.0.1"/><ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="x"/></port></ports></host></nmaprun>`,
			`F:4:1: host: port "22": reason_ttl "x" is not a TTL (0 to 255)`},
		{"jsonl ttl out of range", lines(scanLine, strings.Replace(portLine, `"reason":"syn-ack"`, `"reason":"syn-ack","ttl":256`, 1)), `F:2:104: field "ttl": expected uint8, found number 256`},
		{"xml not closed", xmlHead + xmlRoot + xmlHostA, `F:5: XML: unexpected EOF`},
		{"xml entity", xmlHead + xmlRoot + `<host comment="&x;"></host></nmaprun>`, `F:4: XML: invalid character entity &x;`},
		{"xml bad scan comment", xmlHead + "<!-- portscan-scan seed=x -->\n" + xmlRoot + "</nmaprun>", `F:3:1: portscan-scan comment: seed "x" is no number`},
		{"xml scan comment without fingerprint", xmlHead + "<!-- portscan-scan seed=1 -->\n" + xmlRoot + "</nmaprun>", `F:3:1: portscan-scan comment: no fingerprint`},
		{"xml bad shard", xmlHead + "<!-- portscan-scan fingerprint=f shard=5/4 -->\n" + xmlRoot + "</nmaprun>",
			`F:3:1: portscan-scan comment: shard "5/4": want I/N, I from 1 to N, N 2 or more`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "F")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Open(context.Background(), []string{path}, Options{})
			if err == nil {
				m.Close()
				t.Fatal("no error")
			}
			got := strings.ReplaceAll(err.Error(), path, "F")
			if got != tt.want {
				t.Errorf("error\n%s\nwant\n%s", got, tt.want)
			}
			if !errors.Is(err, ErrInput) {
				t.Errorf("%v does not wrap ErrInput", err)
			}
			checkLine(t, err)
		})
	}
}

// checkLine checks that an error is one printable line of reasonable
// length.
func checkLine(t testing.TB, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r\x1b\x00") || len(msg) > 600 {
		t.Errorf("error is not one short printable line: %q", msg)
	}
}

func TestOpenNotFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ path, want string }{
		{"-", "-: standard input cannot be merged: merge reads each file twice; save it to a file first"},
		{dir, dir + ": is a directory"},
		{"/dev/null", "/dev/null: not a regular file: merge reads each file twice"},
		{filepath.Join(dir, "nonesuch"), "open " + filepath.Join(dir, "nonesuch") + ": no such file or directory"},
	} {
		m, err := Open(context.Background(), []string{tt.path}, Options{})
		if err == nil {
			m.Close()
			t.Errorf("%s: no error", tt.path)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s: error %q, want %q", tt.path, err, tt.want)
		}
	}
}

// TestRunFileChanged: a file cut short between the two readings is an
// error naming it, not a panic nor a silent loss.
func TestRunFileChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	os.WriteFile(path, []byte(scanLine+"\n"+portLine+"\n"+hostLine+"\n"), 0o644)
	m, err := Open(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	os.Truncate(path, int64(len(scanLine)+10))
	w, _ := output.New("jsonl", io.Discard, output.Options{})
	w.Begin(m.Info())
	_, err = m.Run(context.Background(), w)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "changed since it was first read") {
		t.Errorf("error %v", err)
	}
}

// TestRunCancelled: a merge cut short by its context ends with what it
// wrote, interrupted.
func TestRunCancelled(t *testing.T) {
	m := newModel(600)
	path := m.write(t, filepath.Join(t.TempDir(), "a.jsonl"), "jsonl", output.Options{}, nil)
	mg, err := Open(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	hosts := 0
	sink := result.Funcs{OnHost: func(result.Host) {
		if hosts++; hosts == 300 {
			cancel()
		}
	}}
	sum, err := mg.Run(ctx, sink)
	if !errors.Is(err, context.Canceled) || !sum.Interrupted || hosts >= 600 {
		t.Errorf("err %v, interrupted %v, %d hosts", err, sum.Interrupted, hosts)
	}
}

// TestErrorsShort: what a file says is quoted short in an error.
func TestErrorsShort(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x\u202e", 5000)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(scanLine+"\n"+strings.Replace(portLine, `"open"`, `"`+long+`"`, 1)+"\n"), 0o644)
	_, err := Open(context.Background(), []string{bad}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:2: unknown port state "x\u202ex`) || !strings.HasSuffix(err.Error(), "...") {
		t.Errorf("error %v", err)
	} else {
		checkLine(t, err)
	}
	a := filepath.Join(dir, "a.jsonl")
	os.WriteFile(a, []byte(strings.Replace(scanLine, `"num_ports":1`, `"num_ports":1,"fingerprint":"`+long+`"`, 1)+"\n"), 0o644)
	b := filepath.Join(dir, "b.jsonl")
	os.WriteFile(b, []byte(strings.Replace(scanLine, `"num_ports":1`, `"num_ports":1,"fingerprint":"abc"`, 1)+"\n"), 0o644)
	_, err = Open(context.Background(), []string{a, b}, Options{})
	if err == nil || !strings.Contains(err.Error(), `fingerprint "x\u202ex`) || !strings.Contains(err.Error(), "... and fingerprint abc; --force") {
		t.Errorf("error %v", err)
	} else {
		checkLine(t, err)
	}
}
