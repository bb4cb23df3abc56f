package probes

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/portscan/portscan/result"
)

// FuzzParse feeds the parser arbitrary files: it must return a File or a
// *ParseError, never panic, and a File it returns must match any reply
// without panicking. The seeds are the fixture and the lines of
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	fixture, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.nsp", bytes.NewReader(data), Options{MatchTimeout: 20 * time.Millisecond})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		for _, p := range file.Probes {
			file.Match(p, data)
			for _, port := range []uint16{1, 80, 65535} {
				file.ProbesFor(port, port == 80, 9)
				file.ProbesForUDP(port, 9)
			}
		}
	})
}

// FuzzMatch matches arbitrary replies against every probe of the
// fixture: never a panic, and a match always names its service and its
// method. The seeds are in testdata/fuzz/FuzzMatch.
func FuzzMatch(f *testing.F) {
	file := loadFixture(f, Options{MatchTimeout: 20 * time.Millisecond})
	f.Add([]byte("TOY 1.2 ready\r\n"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		for _, p := range file.Probes {
			found, ok := file.Find(p, reply)
			if !ok {
				continue
			}
			s := found.Service
			if s.Name == "" || s.Method != result.MethodServiceProbe || found.Match == nil || found.Probe == nil {
				t.Fatalf("probe %s matched %q as %+v", p.Name, reply, found)
			}
			if found.Soft != found.Match.Soft || s.Name != found.Match.Service {
				t.Fatalf("Found disagrees with its line: %+v", found)
			}
		}
	})
}
