package merge

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// FuzzOpen feeds arbitrary bytes, as a file, to both readings of a
// merge: Open must return an index or an error, never panic; an error
// is one short printable line that wraps ErrInput. A file it indexes
// merges without error into every format, and into a jsonl report
// listing every port that merges into itself.
func FuzzOpen(f *testing.F) {
	m := newModel(3)
	dir := f.TempDir()
	for _, format := range []string{"jsonl", "json", "xml"} {
		b, _ := os.ReadFile(m.shard(1, 3).write(f, filepath.Join(dir, "seed."+format), format, output.Options{}, nil))
		f.Add(b)
	}
	f.Add([]byte(scanLine + "\n" + portLine + "\n" + hostLine + "\n" + scanLine + "\n" + portLine + "\n"))
	if b, err := os.ReadFile("../baseline/testdata/nmap.xml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "in")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mg, err := Open(context.Background(), []string{path}, Options{})
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error %q does not wrap ErrInput", err)
			}
			checkLine(t, err)
			return
		}
		defer mg.Close()
		var once bytes.Buffer
		run(t, mg, "jsonl", &once, every)
		out := filepath.Join(dir, "out.jsonl")
		os.WriteFile(out, once.Bytes(), 0o644)
		again, err := Open(context.Background(), []string{out}, Options{})
		if err != nil {
			t.Fatalf("the report does not merge: %v\n%s", err, once.Bytes())
		}
		defer again.Close()
		var twice bytes.Buffer
		run(t, again, "jsonl", &twice, every)
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("the report merged again differs:\n%s\n---\n%s", once.Bytes(), twice.Bytes())
		}
		for _, format := range output.Formats() {
			run(t, mg, format, &bytes.Buffer{}, output.Options{})
		}
	})
}

// every lists every port, so that what a report lists is what it was
// given.
var every = output.Options{Show: map[result.State]bool{result.Unknown: true, result.Open: true, result.Closed: true,
	result.Filtered: true, result.OpenFiltered: true}}

func run(t *testing.T, mg *Merger, format string, buf *bytes.Buffer, opt output.Options) {
	t.Helper()
	w, err := output.New(format, buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(mg.Info()); err != nil {
		t.Fatal(err)
	}
	sum, err := mg.Run(context.Background(), w)
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if err := w.End(sum); err != nil {
		t.Fatal(err)
	}
}

// FuzzScanComment feeds arbitrary comments to the reader of portscan's
// XML comment of the scan's definition: an error or a fingerprint,
// never a panic, and the comment a writer makes of what it read reads
// back the same.
func FuzzScanComment(f *testing.F) {
	for _, c := range []string{" portscan-scan fingerprint=abc seed=7 shard=2/4 ", " portscan-scan fingerprint=x seed=0 ",
		" portscan 0.1.0 run started ", "portscan-scan shard=0/1", "portscan-scan fingerprint=a fingerprint=b"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		var h head
		if err := readScanComment(&h, []byte(c)); err != nil {
			checkLine(t, err)
			return
		}
		if h.fingerprint == "" {
			return // not the comment
		}
		again := " " + output.ScanCommentPrefix + " fingerprint=" + h.fingerprint + " seed=" + strconv.FormatUint(h.seed, 10)
		if h.shard.Sharded() {
			again += " shard=" + h.shard.String()
		}
		var h2 head
		if err := readScanComment(&h2, []byte(again+" ")); err != nil || h2.fingerprint != h.fingerprint || h2.seed != h.seed || h2.shard != h.shard {
			t.Fatalf("%q read %+v, written %q, read back %+v, %v", c, h, again, h2, err)
		}
		if s := h.shard; s != (result.Shard{}) && (s.Count < 2 || s.Index < 0 || s.Index >= s.Count) {
			t.Fatalf("%q: shard %+v", c, s)
		}
	})
}

// FuzzSplitArgs: the root's args split into words never panics, and
// words joined as portscan's XML writer joins them split back.
func FuzzSplitArgs(f *testing.F) {
	f.Add("portscan -p 22 \"a b\" 127.0.0.1")
	f.Add(`nmap -sT "unterminated`)
	f.Add("a  b\t\"\\x00\"")
	f.Fuzz(func(t *testing.T, s string) {
		splitArgs(s)
		words := strings.Fields(s)
		joined := make([]string, len(words))
		for i, w := range words {
			if strings.ContainsAny(w, " \t\n\"'\\$`") {
				w = strconv.Quote(w)
			}
			joined[i] = w
		}
		if got := splitArgs(strings.Join(joined, " ")); !slices.Equal(got, words) && len(words) > 0 {
			t.Fatalf("split %q: %q, want %q", strings.Join(joined, " "), got, words)
		}
	})
}
