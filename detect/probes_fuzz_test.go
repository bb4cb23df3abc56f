package detect

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/payload"
)

// probeProtocols are the registered names of the client-first protocols
// whose matchers are fuzzed here (the greeting protocols have their own).
var probeProtocols = []string{
	"amqp", "domain", "http", "https", "ldap", "ldaps", "memcached",
	"microsoft-ds", "mongodb", "mqtt", "ms-wbt-server", "netbios-ssn",
	"postgresql", "redis", "rtsp", "sip", "sips", "ssl", "x11",
}

func probeProtos(t testing.TB) []*Protocol {
	var ps []*Protocol
	for _, n := range probeProtocols {
		p := Lookup(n)
		if p == nil {
			t.Fatalf("protocol %q is not registered", n)
		}
		ps = append(ps, p)
	}
	return ps
}

// FuzzAnswer feeds arbitrary answers to every Match: none may panic, a
// match names a service, and ok and more are never both true.
func FuzzAnswer(f *testing.F) {
	ps := probeProtos(f)
	f.Fuzz(func(t *testing.T, got []byte) {
		for _, p := range ps {
			s, ok, more := p.Match(got)
			if ok && more {
				t.Fatalf("%s: ok and more", p.Name)
			}
			if ok && s.Name == "" {
				t.Fatalf("%s: a match with no name", p.Name)
			}
			if !ok && !reflect.DeepEqual(s, zeroService) {
				t.Fatalf("%s: no match, but a service %+v", p.Name, s)
			}
		}
	})
}

// FuzzRequest feeds arbitrary client bytes to every MatchRequest.
func FuzzRequest(f *testing.F) {
	ps := probeProtos(f)
	f.Fuzz(func(t *testing.T, sent []byte) {
		for _, p := range ps {
			if p.MatchRequest == nil {
				continue
			}
			if s, ok := p.MatchRequest(sent); ok && s.Name == "" {
				t.Fatalf("%s: a match with no name", p.Name)
			}
		}
	})
}

// FuzzUDP feeds arbitrary datagrams to UDP, with the port's probes and
// without.
func FuzzUDP(f *testing.F) {
	f.Fuzz(func(t *testing.T, port uint16, reply []byte) {
		for _, sent := range [][]payload.Probe{payload.For(port, udpSeed), nil} {
			if s, ok := UDP(port, sent, reply); ok && s.Name == "" {
				t.Fatalf("port %d: a match with no name", port)
			}
		}
	})
}

// TestProbeFuzzCorpus checks the committed seed corpora: every recorded
// answer for FuzzAnswer, every probe and recorded request for
// FuzzRequest, every recorded datagram for FuzzUDP. -update rewrites
// them.
func TestProbeFuzzCorpus(t *testing.T) {
	want := map[string]string{} // path -> content
	add := func(fuzz, name string, args ...any) {
		var sb strings.Builder
		sb.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch v := a.(type) {
			case []byte:
				sb.WriteString("[]byte(" + strconv.Quote(string(v)) + ")\n")
			case uint16:
				sb.WriteString("uint16(" + strconv.Itoa(int(v)) + ")\n")
			}
		}
		want[filepath.Join("testdata", "fuzz", fuzz, name)] = sb.String()
	}
	for _, dir := range append(probeDirs, "udp") {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.bin"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := dir + "-" + strings.TrimSuffix(filepath.Base(f), ".bin")
			switch {
			case dir == "udp":
				port, _, _ := strings.Cut(filepath.Base(f), "-")
				p, _ := strconv.Atoi(port)
				add("FuzzUDP", name, uint16(p), b)
			case strings.HasSuffix(f, ".req.bin"):
				add("FuzzRequest", name, b)
			default:
				add("FuzzAnswer", name, b)
			}
		}
	}
	for _, p := range probeProtos(t) {
		if p.Probe != nil {
			add("FuzzRequest", "probe-"+p.Name, p.Probe("example.com"))
		}
	}
	for path, content := range want {
		if *golden.Update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (go test -update writes it)", err)
		} else if string(got) != content {
			t.Errorf("%s is stale (go test -update)", path)
		}
	}
}
