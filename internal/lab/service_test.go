package lab_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

func TestParseService(t *testing.T) {
	cases := []struct {
		in      string
		want    lab.Service
		wantErr string
	}{
		{in: "tcp:127.0.0.1:22", want: lab.Service{Kind: lab.Hold, Addr: netip.MustParseAddrPort("127.0.0.1:22")}},
		{in: "tcp-close:[::1]:80", want: lab.Service{Kind: lab.AcceptClose, Addr: netip.MustParseAddrPort("[::1]:80")}},
		{in: "tcp-backlog:127.0.0.1:0", want: lab.Service{Kind: lab.FullBacklog, Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		{in: "udp:[::]:53", want: lab.Service{Kind: lab.Echo, Addr: netip.MustParseAddrPort("[::]:53")}},
		{in: "udp-silent:198.18.0.4:161", want: lab.Service{Kind: lab.Silent, Addr: netip.MustParseAddrPort("198.18.0.4:161")}},
		{in: "", wantErr: "want KIND:IP:PORT"},
		{in: "tcp", wantErr: "want KIND:IP:PORT"},
		{in: "sctp:127.0.0.1:1", wantErr: "at byte 0: unknown kind"},
		{in: "tcp:localhost:22", wantErr: "at byte 4"},
		{in: "tcp:127.0.0.1", wantErr: "at byte 4"},
		{in: "tcp:127.0.0.1:65536", wantErr: "at byte 4"},
		{in: "udp:[fe80::1%eth0]:53", wantErr: "zoned"},
		{in: "tcp-backlog:0.0.0.0:80", wantErr: "specific address"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := lab.ParseService(tc.in)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, lab.ErrService) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseService(%q) = %v, %v; want an ErrService containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseService(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func FuzzParseService(f *testing.F) {
	for _, s := range []string{"tcp:127.0.0.1:22", "udp:[::]:53", "tcp-backlog:[::1]:0", "x", "tcp:[::1%lo]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := lab.ParseService(in)
		if err != nil {
			if !errors.Is(err, lab.ErrService) {
				t.Fatalf("error %v is not an ErrService", err)
			}
			return
		}
		again, err := lab.ParseService(s.String())
		if err != nil || again != s {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", in, s, s.String(), again, err)
		}
	})
}

func TestServe(t *testing.T) {
	ln := lab.Listen(t, "tcp", "127.0.0.1:0")
	port := lab.AddrPort(ln.Addr()).Port()
	ln.Close() // free a port to ask for by number
	lab.Serve(t,
		lab.Service{Kind: lab.AcceptClose, Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)},
		lab.Service{Kind: lab.Echo, Addr: netip.MustParseAddrPort("127.0.0.1:0")},
	)
	c, err := net.DialTimeout("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestPresets(t *testing.T) {
	names := map[string]bool{}
	for _, p := range lab.Presets() {
		names[p.Name] = true
		got, err := lab.LookupPreset(p.Name)
		if err != nil || got.Name != p.Name {
			t.Errorf("LookupPreset(%q) = %v, %v", p.Name, got.Name, err)
		}
		for _, s := range p.Services {
			if again, err := lab.ParseService(s.String()); err != nil || again != s {
				t.Errorf("preset %s: service %v does not read back: %v", p.Name, s, err)
			}
		}
	}
	for _, n := range []string{"filtered", "lan-scanner", "lan-hosts", "slash24"} {
		if !names[n] {
			t.Errorf("no preset %q", n)
		}
	}
	if _, err := lab.LookupPreset("nope"); !errors.Is(err, lab.ErrPreset) {
		t.Errorf("LookupPreset(nope) = %v, want ErrPreset", err)
	}
}
