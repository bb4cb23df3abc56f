package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/result"
)

// The golden tests of the client-first matchers: each recorded answer
// of a real daemon (testdata/<protocol>/*.bin, made by
// testdata/record-probes.sh) goes through its protocol's Match, each
// recorded request (*.req.bin) through its MatchRequest, and each UDP
// reply (testdata/udp/<port>-*.bin) through UDP; the result must be the
// one in the .golden file beside it. go test -update rewrites them.

// probeDirs are the testdata directories of the client-first protocols,
// each named as the protocol it holds answers to.
var probeDirs = []string{
	"amqp", "domain", "http", "https", "ldap", "memcached", "microsoft-ds",
	"mongodb", "mqtt", "ms-wbt-server", "netbios-ssn", "postgresql", "redis",
	"rtsp", "sip", "ssl", "x11",
}

// udpSeed is the seed internal/record sends UDP payloads with.
const udpSeed = 1

type goldenAnswer struct {
	OK       bool            `json:"ok"`
	More     bool            `json:"more,omitempty"`
	Service  *result.Service `json:"service,omitempty"`
	Captured *result.Service `json:"captured,omitempty"` // UDP without the probes
}

func TestProbeGolden(t *testing.T) {
	n := 0
	for _, dir := range append(probeDirs, "udp") {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.bin"))
		for _, f := range files {
			n++
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				got, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				ans := answerOf(t, dir, filepath.Base(f), got)
				out, _ := json.MarshalIndent(ans, "", "\t")
				out = append(out, '\n')
				golden.Check(t, strings.TrimSuffix(f, ".bin")+".golden", out)
				if !ans.OK {
					t.Errorf("a recorded answer does not match")
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no recordings under testdata")
	}
}

func answerOf(t *testing.T, dir, name string, got []byte) goldenAnswer {
	if dir == "udp" {
		port, _, _ := strings.Cut(name, "-")
		p, err := strconv.Atoi(port)
		if err != nil {
			t.Fatalf("%s: no port in the name", name)
		}
		var ans goldenAnswer
		if s, ok := UDP(uint16(p), payload.For(uint16(p), udpSeed), got); ok {
			ans.OK, ans.Service = true, &s
		}
		if s, ok := UDP(uint16(p), nil, got); ok {
			ans.Captured = &s
		}
		return ans
	}
	proto := Lookup(dir)
	if proto == nil {
		t.Fatalf("no protocol %q", dir)
	}
	if strings.HasSuffix(name, ".req.bin") {
		if proto.MatchRequest == nil {
			t.Fatalf("%s has no MatchRequest", dir)
		}
		s, ok := proto.MatchRequest(got)
		if !ok {
			return goldenAnswer{}
		}
		return goldenAnswer{OK: true, Service: &s}
	}
	s, ok, more := proto.Match(got)
	ans := goldenAnswer{OK: ok, More: more}
	if ok {
		ans.Service = &s
	}
	return ans
}

var zeroService result.Service

// recordings returns the recorded answers (not requests) of the probe
// protocols, by directory.
func recordings(t *testing.T) map[string][][]byte {
	out := map[string][][]byte{}
	for _, dir := range probeDirs {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.bin"))
		for _, f := range files {
			if strings.HasSuffix(f, ".req.bin") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[dir] = append(out[dir], b)
		}
	}
	return out
}

// TestProbePrefixes cuts every recorded answer short at every length: a
// prefix of a real answer is never rejected outright (it matches, or
// asks for more), and never panics.
func TestProbePrefixes(t *testing.T) {
	for dir, answers := range recordings(t) {
		p := Lookup(dir)
		for _, a := range answers {
			for n := 0; n < len(a) && n < 4096; n++ {
				_, ok, more := p.Match(a[:n])
				if !ok && !more {
					t.Errorf("%s: a prefix of %d bytes of a recorded answer is rejected: %q", dir, n, a[:min(n, 80)])
					break
				}
			}
		}
	}
}

// sameMatcher groups the protocols that share a matcher, or whose
// matcher accepts another's answers by design (SMB on 139).
var sameMatcher = map[string]string{
	"https": "http", "ldaps": "ldap", "sips": "sip", "netbios-ssn": "microsoft-ds",
}

func matcherGroup(name string) string {
	if g, ok := sameMatcher[name]; ok {
		return g
	}
	return name
}

// TestProbeCrossTalk gives every recorded answer to every other
// protocol's Match: none may take it.
func TestProbeCrossTalk(t *testing.T) {
	recs := recordings(t)
	for _, p := range probeProtos(t) {
		for dir, answers := range recs {
			if matcherGroup(dir) == matcherGroup(p.Name) {
				continue
			}
			for _, a := range answers {
				if s, ok, _ := p.Match(a); ok {
					t.Errorf("%s's Match takes an answer of %s: %+v", p.Name, dir, s)
				}
			}
		}
	}
}

// TestProbeRoundTrip reads each probe back with its protocol's
// MatchRequest, and checks that no other protocol's MatchRequest
// claims it.
func TestProbeRoundTrip(t *testing.T) {
	ps := probeProtos(t)
	for _, p := range ps {
		if p.Probe == nil {
			continue
		}
		for _, host := range []string{"", "example.com"} {
			sent := p.Probe(host)
			for _, q := range ps {
				if q.MatchRequest == nil {
					continue
				}
				s, ok := q.MatchRequest(sent)
				same := matcherGroup(q.Name) == matcherGroup(p.Name)
				switch {
				case same && !ok:
					t.Errorf("%s: MatchRequest does not read its own probe (host %q)", p.Name, host)
				case !same && ok:
					t.Errorf("%s's MatchRequest takes %s's probe: %+v", q.Name, p.Name, s)
				}
			}
		}
	}
}
