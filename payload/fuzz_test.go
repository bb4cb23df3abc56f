package payload

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/portscan/portscan/internal/golden"
)

// FuzzMatch feeds arbitrary datagrams to every matcher: none may panic,
// every answer must carry a reason, and the same datagram must get the
// same answer twice. The seed corpus (testdata/fuzz/FuzzMatch) holds a
// crafted reply to, and the request of, every probe; TestFuzzCorpus
// rewrites it with -update.
func FuzzMatch(f *testing.F) {
	probes := allProbes(goldenSeed)
	f.Fuzz(func(t *testing.T, reply []byte) {
		for _, pp := range probes {
			ok, reason := pp.Probe.Match(reply)
			if reason == "" {
				t.Fatalf("%s: empty reason (ok=%v)", pp.Probe.Name, ok)
			}
			if ok2, reason2 := pp.Probe.Match(reply); ok2 != ok || reason2 != reason {
				t.Fatalf("%s: two answers for one datagram", pp.Probe.Name)
			}
		}
	})
}

// TestFuzzCorpus checks that the seed corpus has an entry for each probe's
// crafted reply and request.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzMatch")
	for _, pp := range allProbes(goldenSeed) {
		for kind, data := range map[string][]byte{"reply": craftReply(t, pp.Probe), "request": pp.Probe.Payload} {
			name := fmt.Sprintf("%d-%s-%s", pp.Port, pp.Probe.Name, kind)
			path := filepath.Join(dir, name)
			want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if *golden.Update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run go test -update to create it)", err)
				continue
			}
			if string(got) != want {
				t.Errorf("%s is stale (run go test -update)", path)
			}
		}
	}
}
