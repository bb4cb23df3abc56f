package targets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
)

func TestAddFile(t *testing.T) {
	list := `# office networks
192.0.2.0/30   # core
one.test, 198.51.100.7
	
10.0.0.1,3 2001:db8::1,2001:db8::2
# 10.9.9.9 is commented out
198.51.100.7	192.0.2.1-2,v6.test` + "\r\n"
	s := NewSet(Options{Resolve: newDNS().resolve})
	if err := s.AddFile("hosts.txt", strings.NewReader("\uFEFF"+list)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(collect(t, s), " ")
	want := "192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3 198.51.100.7 10.0.0.1 10.0.0.3 2001:db8::1 2001:db8::2 v6.test (2001:db8::9)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestAddFileErrors(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"bad octet", strings.NewReader("192.0.2.1\n  ok.test 10.0.0.300 # bad\n"),
			`hosts.txt:2:11: invalid target "10.0.0.300": octet 300 out of range 0-255`},
		{"bad in comma list", strings.NewReader("a.test,b@test"),
			`hosts.txt:1:8: invalid target "b@test": "@" is not allowed in a host name`},
		{"long line", strings.NewReader("10.0.0.1\n" + strings.Repeat("a", maxLine+1)),
			fmt.Sprintf("hosts.txt:2: invalid target: line longer than %d bytes", maxLine)},
		{"read error", failingReader{}, "hosts.txt: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet(Options{Family: IPv4})
			err := s.AddFile("hosts.txt", tt.r)
			if err == nil || err.Error() != tt.want {
				t.Errorf("AddFile = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tests := []struct{ line, want string }{
		{"a b\tc", "a@1 b@3 c@5"},
		{"  10.0.0.1,2  ", "10.0.0.1,2@3"},
		{"10.0,2.0.1", "10.0,2.0.1@1"},
		{"10.0.0.1,10.0.0.2", "10.0.0.1@1 10.0.0.2@10"},
		{"a.test,,b.test,", "a.test@1 b.test@9"},
		{"10.0.0.1,2,10.0.0.3", "10.0.0.1,2,10.0.0.3@1"},
		{"::1,fd00::/64", "::1@1 fd00::/64@5"},
		{",", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var got []string
			for tok := range tokens(tt.line) {
				got = append(got, fmt.Sprintf("%s@%d", tok.text, tok.col))
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("tokens(%q) = %v, want %s", tt.line, got, tt.want)
			}
		})
	}
}

// noDNS resolves nothing, so fuzzing never waits on a lookup.
func noDNS(context.Context, string) ([]netip.Addr, error) {
	return nil, errors.New("no such host")
}

// drain iterates at most 100 targets of s, checking what comes out: valid
// addresses, each once.
func drain(t *testing.T, s *Set) {
	n := 0
	seen := map[netip.Addr]bool{}
	for tg, err := range s.All(context.Background()) {
		if err != nil {
			if !errors.Is(err, ErrResolve) && !errors.Is(err, ErrSpec) {
				t.Fatalf("unexpected iteration error %v", err)
			}
			continue
		}
		if !tg.Addr.IsValid() {
			t.Fatalf("invalid address yielded")
		}
		if seen[tg.Addr] {
			t.Fatalf("%s yielded twice", tg.Addr)
		}
		seen[tg.Addr] = true
		if n++; n == 100 {
			break
		}
	}
	if _, err := s.Count(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.7/24", "10.0.0-3.1-254", "10.0.0,2.1", "*.*.*.1", "10.0.0.1-10.0.0.50",
		"fd00::/120", "fe80::1%eth0", "[::1]", "fd00::1-fd00::ff", "scanme.test/28", "10.0.0.300", "a..b", "10.0.0.-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sp, err := ParseSpec(text)
		if err != nil {
			if !errors.Is(err, ErrSpec) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if sp.String() != text {
			t.Fatalf("String = %q", sp.String())
		}
		switch sp.kind {
		case kindRange:
			if sp.first.cmp(sp.last) > 0 {
				t.Fatal("range runs backwards")
			}
		case kindPattern:
			if sp.pat.size() == 0 || sp.pat.runs() < 2 {
				t.Fatal("degenerate pattern")
			}
		case kindName:
			if sp.Name() == "" {
				t.Fatal("name spec without a name")
			}
		}
		s := NewSet(Options{Resolve: noDNS})
		if err := s.Add(text); err != nil {
			t.Fatalf("ParseSpec accepts %q but Add says %v", text, err)
		}
		drain(t, s)
	})
}

func FuzzReadList(f *testing.F) {
	f.Add([]byte("# comment\n192.0.2.0/30 # core\none.test, 198.51.100.7\n\n10.0.0.1,3 ::1,fd00::1\n"))
	f.Add([]byte("10.0.0.300\r\nfoo@bar\n"))
	f.Add([]byte("a,b,,c\t d\n#\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for sp, err := range readList("list", bytes.NewReader(data)) {
			if err != nil {
				if !errors.Is(err, ErrSpec) || !strings.HasPrefix(err.Error(), "list:") || strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("bad error %q", err)
				}
				continue
			}
			if sp.line < 1 || sp.col < 1 {
				t.Fatalf("bad position %d:%d", sp.line, sp.col)
			}
		}
		s := NewSet(Options{Resolve: noDNS})
		if err := s.AddFile("list", bytes.NewReader(data)); err == nil {
			drain(t, s)
		}
	})
}
