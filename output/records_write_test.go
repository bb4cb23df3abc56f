package output_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// writeLog keeps every Write call it is given, unjoined.
type writeLog struct{ calls [][]byte }

func (w *writeLog) Write(p []byte) (int, error) {
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// TestRecordPerWrite checks that jsonl and csv hand each record to the
// file in one Write call of whole lines: a process killed between two
// write(2) calls then leaves only whole records, however long a record
// is (here longer than any bufio buffer), and a field holding a newline
// does not split its csv row.
func TestRecordPerWrite(t *testing.T) {
	long := strings.Repeat("x", 10000)
	host := netip.MustParseAddr("127.0.0.1")
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	events := func(w output.Writer) {
		t.Helper()
		steps := []error{
			w.Begin(result.Info{Args: []string{"portscan", long}, Start: at, ScanType: "connect", Protocols: []ports.Protocol{ports.TCP}}),
			w.Port(result.Port{Host: host, Hostname: long, Port: ports.Port{Number: 80, Proto: ports.TCP}, State: result.Open, Reason: "syn-ack", Time: at}),
			w.Port(result.Port{Host: host, Hostname: "two\nlines", Port: ports.Port{Number: 81, Proto: ports.TCP}, State: result.Open, Reason: "syn-ack", Time: at}),
			w.Port(result.Port{Host: host, Port: ports.Port{Number: 82, Proto: ports.TCP}, State: result.Open, Reason: "syn-ack", Time: at}),
			w.Host(result.Host{Addr: host, Hostname: long, Up: true}),
			w.End(result.Summary{Start: at, End: at, HostsUp: 1}),
		}
		for i, err := range steps {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	tests := []struct {
		format string
		check  func(t *testing.T, call []byte)
	}{
		{"jsonl", func(t *testing.T, call []byte) {
			line, ok := bytes.CutSuffix(call, []byte("\n"))
			if !ok || bytes.ContainsRune(line, '\n') || !json.Valid(line) {
				t.Errorf("write of %d bytes is not one whole JSON line: %.80q...", len(call), call)
			}
		}},
		{"csv", func(t *testing.T, call []byte) {
			rows, err := csv.NewReader(bytes.NewReader(call)).ReadAll()
			if !bytes.HasSuffix(call, []byte("\n")) || err != nil || len(rows) != 1 || len(rows[0]) != len(output.CSVHeader) {
				t.Errorf("write of %d bytes is not one whole row (%d rows, %v): %.80q...", len(call), len(rows), err, call)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var log writeLog
			w, err := output.New(tt.format, &log, output.Options{})
			if err != nil {
				t.Fatal(err)
			}
			events(w)
			// Each call is checked to be one record: then there are as
			// many calls as records.
			if len(log.calls) < 4 {
				t.Errorf("%d writes, want one per record, at least 4", len(log.calls))
			}
			for _, call := range log.calls {
				tt.check(t, call)
			}
		})
	}
}
