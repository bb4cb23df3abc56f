package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/result"
)

// greetingProtocols are the registered protocols whose server speaks
// first. Each has a directory of greetings under testdata/:
// NAME-debian.bin recorded from the Debian daemons by
// testdata/record.sh, the others written from the products' documented
// banners; beside each, NAME.golden is what the matcher reads in it.
func greetingProtocols() []string {
	var names []string
	for _, p := range Protocols() {
		if p.Probe == nil && p.Match != nil && !p.Handshake {
			names = append(names, p.Name)
		}
	}
	return names
}

// unusualPort is a port no greeting protocol lists.
const unusualPort = 2222

// match is what a matcher returned, as a golden file holds it.
type match struct {
	OK         bool     `json:"ok"`
	More       bool     `json:"more,omitempty"`
	Name       string   `json:"name,omitempty"`
	Product    string   `json:"product,omitempty"`
	Version    string   `json:"version,omitempty"`
	Info       string   `json:"info,omitempty"`
	CPE        []string `json:"cpe,omitempty"`
	Confidence int      `json:"confidence,omitempty"`
}

func toMatch(s result.Service, ok, more bool) match {
	return match{OK: ok, More: more, Name: s.Name, Product: s.Product, Version: s.Version,
		Info: s.Info, CPE: s.CPE, Confidence: s.Confidence}
}

// greeting is one file of testdata/<proto>/.
type greeting struct {
	proto, name, path string
	got               []byte
}

func greetings(t testing.TB) []greeting {
	t.Helper()
	var out []greeting
	for _, proto := range greetingProtocols() {
		files, err := filepath.Glob(filepath.Join("testdata", proto, "*.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no greetings under testdata/%s", proto)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, greeting{proto, strings.TrimSuffix(filepath.Base(f), ".bin"), f, b})
		}
	}
	return out
}

func TestGreetingGolden(t *testing.T) {
	for _, g := range greetings(t) {
		t.Run(g.proto+"/"+g.name, func(t *testing.T) {
			p := Lookup(g.proto)
			if p == nil || p.Match == nil || p.Probe != nil {
				t.Fatalf("%s is not registered as a greeting protocol", g.proto)
			}
			got, err := json.MarshalIndent(toMatch(p.Match(g.got)), "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden.Check(t, strings.TrimSuffix(g.path, ".bin")+".golden", got)
		})
	}
}

// TestGreetingPorts puts every greeting that names its service with
// confidence through Greeting, on its protocol's usual port and on one
// no protocol lists: where a greeting is tried first must not change
// what it is.
func TestGreetingPorts(t *testing.T) {
	for _, g := range greetings(t) {
		want, ok, _ := Lookup(g.proto).Match(g.got)
		if !ok || want.Confidence < 7 {
			continue
		}
		for _, port := range []uint16{Lookup(g.proto).Ports[0], unusualPort} {
			t.Run(g.proto+"/"+g.name+"/"+itoa16(port), func(t *testing.T) {
				svc, ok, more := Greeting(port, g.got)
				if !ok || more || svc.Name != want.Name || svc.Product != want.Product {
					t.Errorf("Greeting(%d) = %+v, %v, %v; want %s (%s)", port, svc, ok, more, want.Name, want.Product)
				}
			})
		}
	}
}

func itoa16(n uint16) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestGreetingAmbiguous checks the greetings that name no protocol:
// the port decides, and text that names another protocol is never
// taken for the one usual on the port.
func TestGreetingAmbiguous(t *testing.T) {
	tests := []struct {
		name string
		port uint16
		got  string
		want string // "" for no match
		more bool
	}{
		{"bare 220 on ftp's port", 21, "220 ready\r\n", "ftp", false},
		{"bare 220 on smtp's port", 25, "220 ready\r\n", "smtp", false},
		{"ESMTP on ftp's port", 21, "220 mail.example.com ESMTP\r\n", "smtp", false},
		{"SMTP on ftp's port", 21, "220 mail.example.com Simple Mail Transfer Service Ready\r\n", "smtp", false},
		{"mail host on ftp's port", 21, "220 mail.example.com ready\r\n", "smtp", false},
		{"FTP on smtp's port", 25, "220 ftp.example.com FTP server ready\r\n", "ftp", false},
		{"vsftpd on smtp's port", 25, "220 (vsFTPd 3.0.3)\r\n", "ftp", false},
		{"ftp host name with ESMTP", 21, "220 ftp.example.com ESMTP Exim 4.96\r\n", "smtp", false},
		{"nntp on ftp's port", 21, "200 news.example.com NNTP ready\r\n", "nntp", false},
		{"LMTP", 24, "220 mx.example.com LMTP server ready\r\n", "lmtp", false},
		{"empty", 21, "", "", true},
		{"one digit", 21, "2", "", true},
		{"a reply cut short", 21, "220 ProFTPD 1.3", "", true},
		{"http is not a greeting", 80, "HTTP/1.1 400 Bad Request\r\n\r\n", "", false},
		{"binary", 21, "\x00\x01\x02\x03\x04\x05\x06\x07", "", false},
		{"120 ready soon", 21, "120 Service ready in 5 minutes.\r\n", "ftp", false},
		{"421 without a name", 25, "421 Service not available\r\n", "", false},
		{"imap cut short", 143, "* OK [CAP", "", true},
		{"numeric without a server", 6667, "001 welcome\r\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, ok, more := Greeting(tt.port, []byte(tt.got))
			if svc.Name != tt.want || ok != (tt.want != "") || more != tt.more {
				t.Errorf("Greeting(%d, %q) = %+v, %v, %v; want %q, more %v", tt.port, tt.got, svc, ok, more, tt.want, tt.more)
			}
		})
	}
}

// TestGreetingPrefixes cuts every greeting short at every length: a
// matcher then says more or no, never panics, and never names another
// service than the whole greeting does once it names one.
func TestGreetingPrefixes(t *testing.T) {
	for _, g := range greetings(t) {
		m := Lookup(g.proto).Match
		whole, wok, _ := m(g.got)
		for n := 0; n < len(g.got); n++ {
			svc, ok, more := m(g.got[:n])
			checkMatch(t, g.proto, g.got[:n], svc, ok, more)
			if wok && ok && svc.Name != whole.Name {
				t.Errorf("%s cut at %d names %q, whole %q", g.path, n, svc.Name, whole.Name)
			}
			if wok && !ok && !more && n > 0 && !allowsNoOnPrefix(g) {
				t.Errorf("%s cut at %d: neither a match nor more", g.path, n)
			}
		}
	}
}

// allowsNoOnPrefix lists the greetings whose matchers may give up on a
// prefix: telnet reads no text before a prompt, and an SSH server's
// lines before its identification could begin any text greeting.
func allowsNoOnPrefix(g greeting) bool {
	return g.proto == "telnet" || g.proto == "ssh" && g.name == "lines-before-ident"
}

// checkMatch checks what every matcher promises of its result.
func checkMatch(t testing.TB, proto string, in []byte, svc result.Service, ok, more bool) {
	t.Helper()
	switch {
	case ok && more:
		t.Errorf("%s(%q): ok and more", proto, in)
	case ok && svc.Name == "":
		t.Errorf("%s(%q): a match with no name", proto, in)
	case ok && (svc.Confidence < 1 || svc.Confidence > 10):
		t.Errorf("%s(%q): confidence %d", proto, in, svc.Confidence)
	case !ok && !isZero(svc):
		t.Errorf("%s(%q): no match, yet %+v", proto, in, svc)
	case svc.Method != "" || svc.Banner != "":
		t.Errorf("%s(%q): sets what the caller sets: %+v", proto, in, svc)
	}
	for _, s := range append([]string{svc.Name, svc.Product, svc.Version, svc.Info}, svc.CPE...) {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("%s(%q): field %q is not clean text", proto, in, s)
		}
	}
}

func isZero(s result.Service) bool {
	return s.Name == "" && s.Product == "" && s.Version == "" && s.Info == "" && s.CPE == nil && s.Confidence == 0
}

func FuzzGreeting(f *testing.F) {
	for _, g := range greetings(f) {
		f.Add(g.got)
	}
	f.Fuzz(func(t *testing.T, got []byte) {
		orig := slices.Clone(got)
		for _, proto := range greetingProtocols() {
			svc, ok, more := Lookup(proto).Match(got)
			checkMatch(t, proto, got, svc, ok, more)
			if !bytes.Equal(got, orig) {
				t.Fatalf("%s changed its input", proto)
			}
		}
		for _, port := range []uint16{21, 25, unusualPort} {
			svc, ok, more := Greeting(port, got)
			checkMatch(t, "Greeting", got, svc, ok, more)
		}
	})
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a  b\t c ", "a b c"},
		{"x\x00y\x7fz", "xyz"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{strings.Repeat("é", 50), strings.Repeat("é", 5)},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in, 10); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVersionPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9.2p1", "9.2p1"},
		{"3.0.3)", "3.0.3"},
		{"8.15.2/8.15.2;", "8.15.2"},
		{"2.4.17-Debian-2.4.17", "2.4.17"},
		{"1.2-3", "1.2-3"},
		{"2.7.1,", "2.7.1"},
		{"v1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := versionPrefix(tt.in); got != tt.want {
			t.Errorf("versionPrefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
