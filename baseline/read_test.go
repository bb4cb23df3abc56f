package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
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

func TestClean(t *testing.T) {
	long := strings.Repeat("x", 50)
	for _, c := range []struct{ name, msg, want string }{
		{"plain", `host "nope" is not an IP address`, `host "nope" is not an IP address`},
		{"long quote", `host "` + long + `" is bad`, `host "` + long[:40] + `"... is bad`},
		{"escapes kept", `state "a\x1bb"`, `state "a\x1bb"`},
		{"raw control", "name a\x1b[31m\x9bz", `name a\x1b[31m\x9bz`},
		{"raw C1 and bidi", "name \u009b\u202e", `name \u009b\u202e`},
		{"newline", "a\nb", `a\nb`},
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
