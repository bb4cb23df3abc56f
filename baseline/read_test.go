package baseline

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// hostList is what a run holds, for comparing runs read differently.
func hostList(r *Run) []string {
	var out []string
	for _, h := range r.Hosts() {
		out = append(out, h.Addr.String()+" "+strings.Join(labelled(h), ","))
	}
	return out
}

// TestReadPrefixes: a byte order mark and any amount of white space
// before the content are skipped, in every format, and positions in
// errors still count from the start of the file.
func TestReadPrefixes(t *testing.T) {
	space := strings.Repeat(" \t\r\n", 40<<10) // 160 KiB, 40960 lines
	for _, format := range []string{"jsonl", "json", "xml"} {
		data := write(t, format, lab1)
		want, err := Read("f", bytes.NewReader(data), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"\ufeff", space, "\ufeff" + space} {
			t.Run(format+" "+strings.ReplaceAll(prefix[:min(4, len(prefix))], "\ufeff", "BOM"), func(t *testing.T) {
				got, err := Read("f", strings.NewReader(prefix+string(data)), ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(hostList(got), hostList(want)) {
					t.Errorf("hosts %q, want %q", hostList(got), hostList(want))
				}
			})
		}
	}
	for _, c := range []struct{ name, data, want string }{
		{"jsonl after space", space + "\n  {\"type\":\"port\",\"host\":}\n", "f:40962:25: invalid character '}' looking for beginning of value"},
		{"json after BOM", "\ufeff{\"scan\": }", "f:1:10: invalid character '}' looking for beginning of value"},
		{"xml after space", space + "  <nmaprun>\n<host></hostx>", "f:40962:15: host: XML: element <host> closed by </hostx>"},
		{"text after space", space + "  hello", "f:40961:3: unexpected 'h'; expected portscan jsonl, json or XML, nmap XML, or a capture"},
		{"only space", space, "f: empty file; expected portscan jsonl, json or XML, nmap XML, or a capture"},
		{"utf-16", "\xff\xfe{\x00", "f: UTF-16 byte order mark; expected UTF-8 text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("f", strings.NewReader(c.data), ReadOptions{})
			if err == nil || err.Error() != c.want || !errors.Is(err, ErrInput) {
				t.Errorf("error %v,\nwant %s", err, c.want)
			}
		})
	}
}

// TestReadTrailing: a file holds one JSON document or one XML root
// element; what comes after is refused, with where it starts.
func TestReadTrailing(t *testing.T) {
	js := write(t, "json", lab1)
	xml := write(t, "xml", lab1)
	jsLines := bytes.Count(js, []byte("\n"))
	xmlLines := bytes.Count(xml, []byte("\n"))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"json then json", append(slices.Clip(js), `{"scan": {}}`...), "f:" + strconv.Itoa(jsLines+1) + ":1: data after the JSON document (byte offset " + strconv.Itoa(len(js)) + ")"},
		{"json then junk", append(slices.Clip(js), "  \n x"...), "f:" + strconv.Itoa(jsLines+2) + ":2: data after the JSON document (byte offset " + strconv.Itoa(len(js)+4) + ")"},
		{"xml two roots", append(slices.Clip(xml), "<nmaprun></nmaprun>"...), "f:" + strconv.Itoa(xmlLines+1) + ":1: a second root element <nmaprun>; an XML file has one (byte offset " + strconv.Itoa(len(xml)) + ")"},
		{"xml text after root", append(slices.Clip(xml), "\n trailing"...), "f:" + strconv.Itoa(xmlLines+2) + ":2: text after the root element (byte offset " + strconv.Itoa(len(xml)+2) + ")"},
		{"xml root after BOM", []byte("\ufeff<nmaprun/><x/>"), "f:1:11: a second root element <x>; an XML file has one (byte offset 13)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("f", bytes.NewReader(c.data), ReadOptions{})
			if err == nil || err.Error() != c.want || !errors.Is(err, ErrInput) {
				t.Errorf("error %v,\nwant %s", err, c.want)
			}
		})
	}
	// What may follow the root: white space, comments, processing
	// instructions.
	tail := append(slices.Clip(xml), "\n<!-- end -->\n<?pi x?>\n\n"...)
	if _, err := Read("f", bytes.NewReader(tail), ReadOptions{}); err != nil {
		t.Errorf("comment after the root: %v", err)
	}
	if _, err := Read("f", bytes.NewReader(append(slices.Clip(js), "\n\n\t "...)), ReadOptions{}); err != nil {
		t.Errorf("white space after the JSON: %v", err)
	}
}

// TestReadErrorExcerpt: errors quote at most a short excerpt of the
// input, escaped, so that a file cannot flood a terminal or send it
// control sequences.
func TestReadErrorExcerpt(t *testing.T) {
	long := "\x1b]0;owned\a\x1b[31m" + strings.Repeat("A", 100<<10)
	for _, c := range []struct{ name, data, want string }{
		{"jsonl host", "{\"type\":\"scan\"}\n{\"type\":\"port\",\"host\":" + jsonString(long) + ",\"port\":1,\"protocol\":\"tcp\",\"state\":\"open\"}\n",
			`f:2: host "\x1b]0;owned\a\x1b[31mAAAAAAAAAAAAAAAAAAAAAAAAA"... is not an IP address`},
		{"jsonl state", "{\"type\":\"port\",\"host\":\"192.0.2.1\",\"port\":1,\"protocol\":\"tcp\",\"state\":\"" + strings.Repeat("B", 1000) + "\"}\n",
			`f:1: unknown port state "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"...`},
		{"json ports", `{"scan": {"ports": "` + strings.Repeat("9", 5000) + `"}}`,
			`f: scan: ports: `},
		{"xml portid", "<nmaprun><host><address addr=\"192.0.2.1\"/><ports><port protocol=\"tcp\" portid=\"&#x202e;&#x9b;31m" + strings.Repeat("A", 100<<10) + "\"/></ports></host></nmaprun>",
			`f:1:10: host: invalid portid "\u202e\u009b31mAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"...`},
		{"xml name", "<nmaprun><a\xc2\x9b31m" + strings.Repeat("\xc2\x9b", 1000) + "/></nmaprun>", `f:1:`},
		{"xml element name", "<nmaprun><" + strings.Repeat("n", 5000) + "></x></nmaprun>", `f:1:`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read("f", strings.NewReader(c.data), ReadOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %.300q,\nwant prefix %s", err, c.want)
			}
			checkShort(t, "f", err)
			t.Log(err)
		})
	}
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// checkShort fails unless err is one short line of printable text.
func checkShort(t *testing.T, name string, err error) {
	t.Helper()
	msg := err.Error()
	if len(msg) > len(name)+maxMsg+64 {
		t.Errorf("error of %d bytes: %.300q", len(msg), msg)
	}
	if !utf8.ValidString(msg) {
		t.Errorf("error is not UTF-8: %.300q", msg)
	}
	for _, r := range msg {
		if !strconv.IsPrint(r) {
			t.Fatalf("error holds control character %U: %.300q", r, msg)
		}
	}
}

// TestReadXMLEntities: the XML reader expands no entity a document
// declares, external (XXE) or internal (billion laughs): a document that
// uses one is refused, and one that only declares it is read without it.
func TestReadXMLEntities(t *testing.T) {
	secret := "portscan-secret-" + strconv.Itoa(os.Getpid())
	path := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	host := func(name string) string {
		return `<nmaprun><host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/><hostnames><hostname name="` + name + `" type="user"/></hostnames>` +
			`<ports><port protocol="tcp" portid="22"><state state="open"/><service name="` + name + `"/></port></ports></host></nmaprun>`
	}
	xxe := `<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file://` + path + `">]>`
	var lol strings.Builder
	lol.WriteString(`<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		lol.WriteString(`<!ENTITY lol` + strconv.Itoa(i) + ` "` + strings.Repeat("&lol"+strconv.Itoa(i-1)+";", 10) + `">`)
	}
	lol.WriteString(`]>`)
	for _, c := range []struct{ name, data, want string }{
		{"external entity", xxe + host("&xxe;"), "f:1:"},
		{"external entity in text", xxe + "<nmaprun>&xxe;</nmaprun>", "f:1:"},
		{"internal entity", `<!DOCTYPE nmaprun [<!ENTITY e "` + secret + `">]>` + host("&e;"), "f:1:"},
		{"billion laughs", lol.String() + host("&lol9;"), "f:1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			run, err := Read("f", strings.NewReader(c.data), ReadOptions{})
			if err == nil {
				t.Fatalf("read: %q", hostList(run))
			}
			if !strings.HasPrefix(err.Error(), c.want) || !strings.Contains(err.Error(), "invalid character entity &") {
				t.Errorf("error %v, want an invalid entity", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the file's content: %v", err)
			}
		})
	}
	// Declared but not used, the entities are inert.
	for _, doctype := range []string{xxe, lol.String()} {
		run, err := Read("f", strings.NewReader(doctype+host("web")), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := hostList(run); !slices.Equal(got, []string{"192.0.2.1 22/tcp web"}) || strings.Contains(strings.Join(got, " "), secret) {
			t.Errorf("hosts %q", got)
		}
	}
}

// zeroCapture streams a gzip-compressed pcap file: a file header, then
// packets of 64 KiB of zeros, size bytes in all before compression. The
// gzip members repeat, so the compressed stream is built once, small.
func zeroCapture(t testing.TB, size int64) io.Reader {
	const snap = 64 << 10
	var head, member bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], snap)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	rec := make([]byte, 16+snap)
	binary.LittleEndian.PutUint32(rec[8:], snap)
	binary.LittleEndian.PutUint32(rec[12:], snap)
	const perMember = 16 // packets: 1 MiB
	gz := func(buf *bytes.Buffer, parts ...[]byte) {
		w, _ := gzip.NewWriterLevel(buf, gzip.BestCompression)
		for _, p := range parts {
			w.Write(p)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	gz(&head, hdr)
	recs := make([][]byte, perMember)
	for i := range recs {
		recs[i] = rec
	}
	gz(&member, recs...)
	n := int(size / int64(perMember*len(rec)))
	readers := []io.Reader{&head}
	for range n {
		readers = append(readers, bytes.NewReader(member.Bytes()))
	}
	return io.MultiReader(readers...)
}

// heapWatch samples the heap in use as its reader is read, and every
// millisecond besides, until stopped.
type heapWatch struct {
	r    io.Reader
	n    int
	eof  bool
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func newHeapWatch(r io.Reader) *heapWatch {
	h := &heapWatch{r: r, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				h.sample()
				return
			case <-tick.C:
				h.sample()
			}
		}
	}()
	return h
}

func (h *heapWatch) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	for {
		old := h.peak.Load()
		if m.HeapInuse <= old || h.peak.CompareAndSwap(old, m.HeapInuse) {
			return
		}
	}
}

// Peak stops the watch and returns the most heap in use it saw.
func (h *heapWatch) Peak() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

func (h *heapWatch) Read(p []byte) (int, error) {
	if h.n++; h.n%4 == 0 {
		h.sample()
	}
	n, err := h.r.Read(p[:min(len(p), 256)])
	h.eof = err == io.EOF
	return n, err
}

// TestReadGzipBomb: a compressed capture that inflates to 1 GiB is read
// as a stream, in memory that does not grow with it.
func TestReadGzipBomb(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.HeapInuse
	w := newHeapWatch(zeroCapture(t, size))
	run, err := Read("bomb.pcap.gz", w, ReadOptions{})
	peak := w.Peak()
	if err != nil {
		t.Fatal(err)
	}
	if run.Scanner != "pcap" {
		t.Errorf("scanner %q", run.Scanner)
	}
	if !w.eof {
		t.Error("the reader stopped before the end")
	}
	const bound = 32 << 20
	if w.n < 100 || peak == 0 {
		t.Fatalf("%d reads, too few to watch the heap", w.n)
	}
	if grew := int64(peak) - int64(before); grew > bound {
		t.Errorf("heap grew by %d MiB reading %d MiB, more than %d MiB", grew>>20, size>>20, bound>>20)
	}
	t.Logf("heap in use: %d KiB before, peak %d KiB, over %d reads", before>>10, peak>>10, w.n)
}

func TestClean(t *testing.T) {
	long := strings.Repeat("x", 50)
	for _, c := range []struct{ name, msg, want string }{
		{"plain", `host "nope" is not an IP address`, `host "nope" is not an IP address`},
		{"long quote", `host "` + long + `" is bad`, `host "` + long[:40] + `"... is bad`},
		{"escapes kept", `state "a\x1bb"`, `state "a\x1bb"`},
		{"raw control", "name a\x1b[31m\x9bz", `name a\x1b[31m\x9bz`},
		{"raw C1 and bidi", "name \u009b\u202e", `name \u009b\u202e`},
		{"newline", "a\nb", `a\nb`},
		{"legacy workflow command", "x ##[error]y", `x ##\x5berror]y`},
		{"unterminated quote", `say "hi`, `say "hi`},
		{"cut at a piece", strings.Repeat("\x00", 100), strings.Repeat(`\x00`, 50) + "..."},
		{"utf-8 quote cut on a rune", `"` + strings.Repeat("é", 30) + `"`, `"` + strings.Repeat("é", 20) + `"...`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := clean(c.msg); got != c.want {
				t.Errorf("clean(%q) = %q, want %q", c.msg, got, c.want)
			}
		})
	}
}
