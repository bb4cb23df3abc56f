package lab_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// dialTimeout dials with a plain net.Dialer in the test's own namespace.
func dialTimeout(t *testing.T, network, addr string, d time.Duration) (net.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var dialer net.Dialer
	return dialer.DialContext(ctx, network, addr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestLoopbackTCP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, network, addr string
		v6                  bool
	}{
		{"127.0.0.1", "tcp", "127.0.0.1:0", false},
		{"127.0.0.2", "tcp4", "127.0.0.2:0", false},
		{"127.45.6.7", "tcp", "127.45.6.7:0", false},
		{"::1", "tcp6", "[::1]:0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.v6 && !hasIPv6Loopback() {
				t.Skip("no IPv6 loopback here")
			}
			t.Run("hold", func(t *testing.T) {
				ln := lab.Listen(t, tc.network, tc.addr)
				c, err := dialTimeout(t, "tcp", ln.Addr().String(), time.Second)
				if err != nil {
					t.Fatalf("dial held listener: %v", err)
				}
				defer c.Close()
				if _, err := c.Write([]byte("probe\r\n")); err != nil {
					t.Fatalf("write: %v", err)
				}
				// A held connection stays open and silent.
				c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
					t.Fatalf("read from held connection: got %v, want a timeout", err)
				}
			})
			t.Run("accept-close", func(t *testing.T) {
				ln := lab.ListenAcceptClose(t, tc.network, tc.addr)
				c, err := dialTimeout(t, "tcp", ln.Addr().String(), time.Second)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Fatalf("read: got %v, want EOF", err)
				}
			})
			t.Run("full-backlog", func(t *testing.T) {
				ap := lab.ListenFullBacklog(t, tc.network, tc.addr)
				if ap.Port() == 0 {
					t.Fatal("no port")
				}
				start := time.Now()
				c, err := dialTimeout(t, "tcp", ap.String(), 500*time.Millisecond)
				if err == nil {
					c.Close()
					t.Fatal("dial to a full backlog connected")
				}
				if !isTimeout(err) {
					t.Fatalf("dial to a full backlog: got %v, want a timeout", err)
				}
				t.Logf("full backlog: %v after %v", err, time.Since(start).Round(time.Millisecond))
			})
		})
	}
}

func TestLoopbackUDP(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"udp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			if tc.network == "udp6" && !hasIPv6Loopback() {
				t.Skip("no IPv6 loopback here")
			}
			t.Run("echo", func(t *testing.T) {
				pc := lab.UDPEcho(t, tc.network, tc.addr)
				c, err := net.Dial(tc.network, pc.LocalAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte("hello"))
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 16)
				n, err := c.Read(buf)
				if err != nil || string(buf[:n]) != "hello" {
					t.Fatalf("echo: got %q, %v", buf[:n], err)
				}
			})
			t.Run("silent", func(t *testing.T) {
				pc := lab.UDPSilent(t, tc.network, tc.addr)
				c, err := net.Dial(tc.network, pc.LocalAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte("hello"))
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := c.Read(make([]byte, 16)); !isTimeout(err) {
					t.Fatalf("silent: got %v, want a timeout", err)
				}
			})
		})
	}
}

func TestAddrPort(t *testing.T) {
	ln := lab.Listen(t, "tcp", "127.0.0.1:0")
	ap := lab.AddrPort(ln.Addr())
	if ap.Addr().String() != "127.0.0.1" || ap.Port() == 0 {
		t.Fatalf("AddrPort(%v) = %v", ln.Addr(), ap)
	}
	if got := lab.AddrPort(&net.UnixAddr{Name: "x"}); got.IsValid() {
		t.Fatalf("AddrPort(unix) = %v, want zero", got)
	}
}

func TestRequireRootMessage(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: nothing to skip")
	}
	err := lab.Available()
	if err == nil || !errors.Is(err, lab.ErrUnavailable) || !strings.Contains(err.Error(), "root") {
		t.Fatalf("Available() = %v, want ErrUnavailable naming root", err)
	}
}
