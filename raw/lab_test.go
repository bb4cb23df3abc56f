package raw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/internal/lab"
)

// The tests here run in network namespaces (root only; they skip
// elsewhere): every frame goes to the namespace's loopback or across the
// veth pair of a lab.

// lookupLink finds an interface by name through netlink.
func lookupLink(t testing.TB, nl *Netlink, name string) Interface {
	t.Helper()
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := nl.Link(ifi.Index)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// readTCP reads from c until a TCP segment comes, or a second passes.
func readTCP(t *testing.T, c *Conn) (Packet, bool) {
	t.Helper()
	d := NewDecoder()
	bufs, n := [][]byte{make([]byte, 2048), make([]byte, 2048)}, make([]int, 2)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		k, err := c.ReadBatch(bufs, n, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for i := range k {
			p, err := d.Decode(bufs[i][:n[i]])
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind == KindTCP {
				return p, true
			}
		}
	}
	return Packet{}, false
}

func TestLabLoopback(t *testing.T) {
	ns := lab.NewNamespace(t, "raw-lo")
	err := ns.Do(func() error {
		nl, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		lo := lookupLink(t, nl, "lo")
		if !lo.Loopback || !lo.NoARP || lo.Link != LinkEthernet || len(lo.MAC) != 6 {
			t.Fatalf("lo: %+v", lo)
		}
		c, err := Open(lo)
		if err != nil {
			return err
		}
		defer c.Close()
		ours := PortRange{First: 61000, Last: 61001}
		prog, err := Filter{TCPPorts: &ours}.Program()
		if err != nil {
			return err
		}
		if err := c.SetFilter(prog); err != nil {
			return err
		}
		b := NewBuilder()
		for _, addr := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()} {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
			if err != nil {
				return err
			}
			defer ln.Close()
			open := uint16(ln.Addr().(*net.TCPAddr).Port)
			closed := open + 1

			r, err := nl.Route(addr)
			if err != nil || !r.Local() || r.Ifindex != lo.Index {
				t.Errorf("route to %s: %+v, %v; want local on lo", addr, r, err)
			}

			// The host's own connection to the listener, from a port
			// outside the range: none of it may be read.
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			conn.Close()

			for _, tc := range []struct {
				port  uint16
				flags uint8
			}{{open, FlagSYN | FlagACK}, {closed, FlagRST | FlagACK}} {
				f, err := b.TCP(Segment{Src: addr, Dst: addr, SrcPort: 61000, DstPort: tc.port, Seq: 1000, Flags: FlagSYN, MSS: 1460})
				if err != nil {
					return err
				}
				if n, err := c.WriteBatch([][]byte{f}); n != 1 || err != nil {
					t.Fatalf("WriteBatch: %d, %v", n, err)
				}
				p, ok := readTCP(t, c)
				if !ok {
					t.Fatalf("%s port %d: no answer", addr, tc.port)
				}
				if p.TCP.SrcPort != tc.port || p.TCP.DstPort != 61000 || p.TCP.Flags != tc.flags || p.TCP.Ack != 1001 || p.Src != addr {
					t.Errorf("%s port %d: %+v, want flags %#x, ack 1001", addr, tc.port, p, tc.flags)
				}
			}
		}
		// Loopback sends to the host's own addresses only: anything else
		// would leave through another interface.
		away, err := b.TCP(Segment{Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("198.19.0.1"), SrcPort: 61000, DstPort: 22, Flags: FlagSYN})
		if err != nil {
			return err
		}
		if n, err := c.WriteBatch([][]byte{away}); n != 0 || !errors.Is(err, unix.EINVAL) {
			t.Errorf("a frame to 198.19.0.1 on lo: sent %d, %v; want none, EINVAL", n, err)
		}
		// Nothing else: not our own SYNs, not the kernel's resets of the
		// SYN-ACK, not the host's connections.
		if p, ok := readTCP(t, c); ok {
			t.Errorf("read %+v, want nothing more", p)
		}
		st, err := c.Stats()
		if err != nil {
			return err
		}
		if st.Received != 4 || st.Dropped != 0 {
			t.Errorf("stats %+v, want 4 received, none dropped", st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLabCloseWakesReader(t *testing.T) {
	ns := lab.NewNamespace(t, "raw-close")
	var c *Conn
	err := ns.Do(func() error {
		nl, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		c, err = Open(lookupLink(t, nl, "lo"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := c.ReadBatch([][]byte{make([]byte, 100)}, []int{0}, -1)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadBatch after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end ReadBatch")
	}
	if _, err := c.WriteBatch([][]byte{{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteBatch after Close: %v, want ErrClosed", err)
	}
}

func TestLabLAN(t *testing.T) {
	l := lab.NewLAN(t)
	l.Scanner.MustRun("ip", "addr", "add", "fd00:18::fe/64", "dev", "eth0", "nodad")
	l.Hosts.MustRun("ip", "addr", "add", "fd00:18::1/64", "dev", "eth0", "nodad")
	hostMAC, err := net.ParseMAC(strings.TrimSpace(l.Hosts.MustRun("cat", "/sys/class/net/eth0/address")))
	if err != nil {
		t.Fatal(err)
	}
	live, nobody := l.Live[0].Addr, l.Unassigned()[0]
	err = l.Scanner.Do(func() error {
		nl, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		eth := lookupLink(t, nl, "eth0")
		if eth.Loopback || eth.NoARP || eth.Link != LinkEthernet || len(eth.MAC) != 6 || !eth.Up || eth.MTU != 1500 {
			t.Errorf("eth0: %+v", eth)
		}
		tests := []struct {
			dst   string
			local bool
			src   string
			err   error
		}{
			{dst: live.String(), src: l.ScannerAddr.String()},
			{dst: l.ScannerAddr.String(), local: true, src: l.ScannerAddr.String()},
			{dst: "fd00:18::1", src: "fd00:18::fe"},
			// Outside the only route: nothing is sent, the kernel says so.
			{dst: "198.19.0.1", err: unix.ENETUNREACH},
		}
		for _, tt := range tests {
			r, err := nl.Route(netip.MustParseAddr(tt.dst))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Errorf("route to %s: %+v, %v; want %v", tt.dst, r, err, tt.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("route to %s: %v", tt.dst, err)
				continue
			}
			if r.Local() != tt.local || r.Src.String() != tt.src || r.Gateway.IsValid() || (!tt.local && r.Ifindex != eth.Index) {
				t.Errorf("route to %s: %+v, want local %v from %s on %d", tt.dst, r, tt.local, tt.src, eth.Index)
			}
			if r.NextHop() != r.Dst {
				t.Errorf("route to %s: next hop %s", tt.dst, r.NextHop())
			}
		}

		ctx := context.Background()
		for _, hop := range []netip.Addr{live, netip.MustParseAddr("fd00:18::1")} {
			src := l.ScannerAddr
			if hop.Is6() {
				src = netip.MustParseAddr("fd00:18::fe")
			}
			mac, err := ResolveMAC(ctx, nl, eth, src, hop, 3, 500*time.Millisecond)
			if err != nil || mac.String() != hostMAC.String() {
				t.Errorf("%s: %v, %v; want %v", hop, mac, err, hostMAC)
			}
		}
		mac, err := ResolveMAC(ctx, nl, eth, l.ScannerAddr, nobody, 2, 200*time.Millisecond)
		if !errors.Is(err, ErrNoNeighbor) {
			t.Errorf("%s, where nobody is: %v, %v; want ErrNoNeighbor", nobody, mac, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckWithoutCapability runs Check again in a child that has lost
// CAP_NET_RAW (setpriv drops it from the bounding set before exec).
func TestCheckWithoutCapability(t *testing.T) {
	if os.Getenv("RAW_TEST_CHILD") == "check" {
		err := Check()
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("Check without CAP_NET_RAW: %v, want ErrPermission", err)
		}
		if _, err := Open(Interface{Index: 1, Name: "lo", Link: LinkEthernet, Loopback: true}); !errors.Is(err, ErrPermission) {
			t.Fatalf("Open without CAP_NET_RAW: %v, want ErrPermission", err)
		}
		fmt.Println("child:", err)
		return
	}
	lab.RequireRoot(t)
	if err := Check(); err != nil {
		t.Fatalf("Check as root: %v", err)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not found (util-linux)")
	}
	cmd := exec.Command(setpriv, "--inh-caps=-all", "--bounding-set=-net_raw", os.Args[0], "-test.run=^TestCheckWithoutCapability$", "-test.v")
	cmd.Env = append(os.Environ(), "RAW_TEST_CHILD=check")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child: ") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
