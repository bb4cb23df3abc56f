package baseline

import (
	"bytes"
	"io"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the result-file readers (jsonl, json,
// nmap XML; captures are fuzzed by the capture package): they must
// return a run or an error, never panic, and a run must compare equal
// to itself.
func FuzzRead(f *testing.F) {
	for _, format := range []string{"jsonl", "json", "xml"} {
		f.Add(write(f, format, lab1))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if isCapture(data) {
			return
		}
		run, err := Read("fuzz", bytes.NewReader(data), ReadOptions{})
		if err != nil {
			if run != nil {
				t.Fatal("a run and an error")
			}
			return
		}
		d := Compare(run, run, CompareOptions{Labels: true})
		if !d.Empty() {
			t.Fatalf("a run differs from itself: %v", d.Changes)
		}
		if err := Compare(NewRun("empty"), run, CompareOptions{}).WriteText(io.Discard, true); err != nil {
			t.Fatal(err)
		}
	})
}
