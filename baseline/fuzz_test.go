package baseline

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/portscan/portscan/capture"
)

// FuzzRead feeds arbitrary bytes to the result-file readers (jsonl, json,
// nmap XML; captures are fuzzed by the capture package): they must
// return a run or an error, never panic; an error is one short line of
// printable text that wraps ErrInput; a run must compare equal to
// itself. A byte order mark and white space put before the bytes change
// nothing.
func FuzzRead(f *testing.F) {
	for _, format := range []string{"jsonl", "json", "xml"} {
		f.Add(write(f, format, lab1))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if capture.HasMagic(data) {
			return
		}
		run, err := Read("fuzz", bytes.NewReader(data), ReadOptions{})
		if err != nil {
			if run != nil {
				t.Fatal("a run and an error")
			}
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error %q does not wrap ErrInput", err)
			}
			checkShort(t, "fuzz", err)
		} else {
			d := Compare(run, run, CompareOptions{Labels: true})
			if !d.Empty() {
				t.Fatalf("a run differs from itself: %v", d.Changes)
			}
			if err := Compare(NewRun("empty"), run, CompareOptions{}).WriteText(io.Discard, true); err != nil {
				t.Fatal(err)
			}
		}
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
			return
		}
		padded := append([]byte("\xef\xbb\xbf \n\t\r\n"), data...)
		run2, err2 := Read("fuzz", bytes.NewReader(padded), ReadOptions{})
		switch {
		case (err == nil) != (err2 == nil):
			t.Fatalf("a BOM and white space before it changed the verdict: %v, then %v", err, err2)
		case err == nil && !Compare(run, run2, CompareOptions{Labels: true}).Empty():
			t.Fatalf("a BOM and white space before it changed the run: %v", Compare(run, run2, CompareOptions{Labels: true}).Changes)
		}
	})
}
