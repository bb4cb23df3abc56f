package probes

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// installedPath is where Debian's nmap package installs nmap's own file.
// The tests read it where it is; none of its content is written into
// this repository.
const installedPath = "/usr/share/nmap/nmap-service-probes"

var installed struct {
	once sync.Once
	f    *File
	err  error
}

// loadInstalled parses the installed file once for all tests, or skips.
func loadInstalled(tb testing.TB) *File {
	tb.Helper()
	if _, err := os.Stat(installedPath); err != nil {
		tb.Skipf("nmap's probes file is not installed (%v): apt-get install nmap, as .ci/run does", err)
	}
	installed.once.Do(func() { installed.f, installed.err = Load(installedPath, Options{}) })
	if installed.err != nil {
		tb.Fatalf("Load(%s): %v", installedPath, installed.err)
	}
	return installed.f
}

func TestInstalledFile(t *testing.T) {
	f := loadInstalled(t)
	var matches, soft int
	for _, p := range f.Probes {
		for _, m := range p.Matches {
			if m.Soft {
				soft++
			} else {
				matches++
			}
		}
	}
	t.Logf("%s: %d probes, %d match lines, %d softmatch lines, %d patterns refused by regexp2",
		installedPath, len(f.Probes), matches, soft, len(f.Refused))
	for _, e := range f.Refused {
		t.Logf("refused: %v", e)
	}
	if len(f.Probes) == 0 || matches == 0 || soft == 0 {
		t.Fatalf("want probes, match and softmatch lines; got %d, %d, %d", len(f.Probes), matches, soft)
	}
	if f.Lookup(ports.TCP, "NULL") == nil {
		t.Error("no TCP NULL probe")
	}
	// The refused share is a figure to watch, not to hide: nearly every
	// pattern must compile.
	if all := matches + soft; len(f.Refused)*100 > all {
		t.Errorf("%d of %d patterns refused: more than 1%%", len(f.Refused), all)
	}
}

// The replies below are written for these tests, as a server of each
// kind would send them.
var installedReplies = []struct {
	name, probe string
	reply       string
	service     string
	product     string // a word of the reply that the product must hold
	version     string // likewise, for the version; "" for none
}{
	{"ssh greeting", "NULL", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "ssh", "OpenSSH", "9.2p1"},
	{"http response", "GetRequest", "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
		"Content-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "http", "nginx", "1.22.1"},
	{"smtp greeting", "NULL", "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n", "smtp", "Postfix", ""},
}

func TestInstalledMatch(t *testing.T) {
	f := loadInstalled(t)
	for _, tc := range installedReplies {
		t.Run(tc.name, func(t *testing.T) {
			p := f.Lookup(ports.TCP, tc.probe)
			if p == nil {
				t.Skipf("the installed file has no TCP probe %s", tc.probe)
			}
			svc, ok, soft := f.Match(p, []byte(tc.reply))
			if !ok {
				t.Fatalf("no match for %q", tc.reply)
			}
			t.Logf("%+v soft=%v", svc, soft)
			if svc.Name != tc.service || svc.Method != result.MethodServiceProbe {
				t.Errorf("got name %q method %q; want %q, %q", svc.Name, svc.Method, tc.service, result.MethodServiceProbe)
			}
			if !strings.Contains(svc.Product, tc.product) || !strings.HasPrefix(svc.Version, tc.version) {
				t.Errorf("product %q version %q; want %s and %s in them", svc.Product, svc.Version, tc.product, tc.version)
			}
		})
	}
}
