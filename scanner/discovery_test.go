package scanner

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
)

func TestPingString(t *testing.T) {
	tests := []struct {
		p    Ping
		want string
	}{
		{Ping{Kind: PingEcho}, "echo"},
		{Ping{Kind: PingTimestamp}, "timestamp"},
		{Ping{Kind: PingSYN, Port: 443}, "syn/443"},
		{Ping{Kind: PingACK, Port: 80}, "ack/80"},
		{Ping{Kind: PingUDP, Port: 40125}, "udp/40125"},
		{Ping{Kind: 99}, "ping(99)"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v: %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestCheckPings(t *testing.T) {
	tests := []struct {
		name  string
		pings []Ping
		err   string
	}{
		{"default", DefaultPings, ""},
		{"none", nil, ""},
		{"syn without port", []Ping{{Kind: PingEcho}, {Kind: PingSYN}}, "ping syn/0: port 0"},
		{"unknown", []Ping{{Kind: 0}}, "no such kind"},
		{"neighbour", []Ping{{Kind: pingNeighbor}}, "no such kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPings(tt.pings)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("CheckPings: %v, want %q", err, tt.err)
			}
		})
	}
}

// TestVendorsLazy: the registry is read only once a MAC is to be
// labelled, and a vendor function given is used as it is.
func TestVendorsLazy(t *testing.T) {
	calls := 0
	v := vendors{fn: func(mac net.HardwareAddr) string { calls++; return "Example" }}
	if v.name(nil) != "" || calls != 0 {
		t.Errorf("no MAC: %d calls, want none", calls)
	}
	if v.name(net.HardwareAddr{0, 0, 0x5e, 0, 0, 1}) != "Example" || calls != 1 {
		t.Errorf("a MAC: %d calls, want 1", calls)
	}
}

// TestRawDiscoveryWithoutCapability runs raw discovery in a child that
// has lost CAP_NET_RAW (setpriv drops it from the bounding set): Run
// fails at once with an error matching raw.ErrPermission, and sends
// nothing.
func TestRawDiscoveryWithoutCapability(t *testing.T) {
	if os.Getenv("SCANNER_TEST_CHILD") == "noraw" {
		sent := false
		_, err := Run(context.Background(), Config{DiscoverOnly: true, RawDiscovery: true,
			Dial: func(context.Context, string, string) (net.Conn, error) { sent = true; return nil, errors.New("no") }},
			addrs("127.0.0.1"), result.Funcs{})
		if !errors.Is(err, raw.ErrPermission) || sent {
			t.Fatalf("Run without CAP_NET_RAW: %v (sent %v), want raw.ErrPermission", err, sent)
		}
		t.Log("child:", err)
		return
	}
	lab.RequireRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found (util-linux)")
	}
	cmd := exec.Command(setpriv, "--inh-caps=-all", "--bounding-set=-net_raw", os.Args[0], "-test.run=^TestRawDiscoveryWithoutCapability$", "-test.v")
	cmd.Env = append(os.Environ(), "SCANNER_TEST_CHILD=noraw")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child: ") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
