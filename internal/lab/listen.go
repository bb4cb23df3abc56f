package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// place is where sockets are made: the test's own namespace (ns == nil)
// or one made by NewNamespace.
type place struct{ ns *Namespace }

func (p place) listen(network, addr string) (net.Listener, error) {
	if p.ns == nil {
		return net.Listen(network, addr)
	}
	var ln net.Listener
	err := p.ns.Do(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

func (p place) listenPacket(network, addr string) (net.PacketConn, error) {
	if p.ns == nil {
		return net.ListenPacket(network, addr)
	}
	var pc net.PacketConn
	err := p.ns.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	return pc, err
}

func (p place) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.ns == nil {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return p.ns.DialContext(ctx, network, addr)
}

func (p place) socket(domain, typ int) (int, error) {
	if p.ns == nil {
		fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		return fd, nil
	}
	return p.ns.socket(domain, typ)
}

func (p place) String() string {
	if p.ns == nil {
		return "own namespace"
	}
	return "namespace " + p.ns.name
}

// Listen opens a TCP listener on addr ("127.0.0.1:0" for a random port,
// "127.0.0.2:8080", "[::1]:0") that accepts every connection, reads and
// discards what the peer sends, and holds the connection open until the
// peer closes it or the test ends. network is tcp, tcp4 or tcp6.
func Listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	return serveTCP(t, place{}, network, addr, false)
}

// ListenAcceptClose opens a TCP listener that accepts every connection and
// closes it at once: the port is open, the service says nothing.
func ListenAcceptClose(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	return serveTCP(t, place{}, network, addr, true)
}

// ListenFullBacklog opens a TCP listener with a backlog of one that never
// accepts, and fills its queue, so that the kernel drops every further SYN
// to it: a listening port that a connect scan sees as filtered (the
// connect times out). addr must be an IP literal and port; port 0 picks
// one.
func ListenFullBacklog(t testing.TB, network, addr string) netip.AddrPort {
	t.Helper()
	return fullBacklog(t, place{}, network, addr)
}

// UDPEcho opens a UDP socket on addr that sends every datagram back to
// its sender. network is udp, udp4 or udp6.
func UDPEcho(t testing.TB, network, addr string) net.PacketConn {
	t.Helper()
	return serveUDP(t, place{}, network, addr, true)
}

// UDPSilent opens a UDP socket on addr that reads every datagram and
// answers none: an open port a UDP scan can only call open|filtered.
func UDPSilent(t testing.TB, network, addr string) net.PacketConn {
	t.Helper()
	return serveUDP(t, place{}, network, addr, false)
}

// Listen is the package's Listen, inside the namespace.
func (ns *Namespace) Listen(network, addr string) net.Listener {
	ns.t.Helper()
	return serveTCP(ns.t, place{ns}, network, addr, false)
}

// ListenAcceptClose is the package's ListenAcceptClose, inside the
// namespace.
func (ns *Namespace) ListenAcceptClose(network, addr string) net.Listener {
	ns.t.Helper()
	return serveTCP(ns.t, place{ns}, network, addr, true)
}

// ListenFullBacklog is the package's ListenFullBacklog, inside the
// namespace.
func (ns *Namespace) ListenFullBacklog(network, addr string) netip.AddrPort {
	ns.t.Helper()
	return fullBacklog(ns.t, place{ns}, network, addr)
}

// UDPEcho is the package's UDPEcho, inside the namespace.
func (ns *Namespace) UDPEcho(network, addr string) net.PacketConn {
	ns.t.Helper()
	return serveUDP(ns.t, place{ns}, network, addr, true)
}

// UDPSilent is the package's UDPSilent, inside the namespace.
func (ns *Namespace) UDPSilent(network, addr string) net.PacketConn {
	ns.t.Helper()
	return serveUDP(ns.t, place{ns}, network, addr, false)
}

// AddrPort returns the IP and port of a TCP or UDP address, such as a
// listener's Addr(); the zero AddrPort for any other.
func AddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

func serveTCP(t testing.TB, p place, network, addr string, closeAtOnce bool) net.Listener {
	t.Helper()
	s, err := startTCP(p, network, addr, closeAtOnce)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.ln
}

// startTCP opens a listener and serves it until Close.
func startTCP(p place, network, addr string, closeAtOnce bool) (*tcpServer, error) {
	ln, err := p.listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("lab: listen %s %s in %s: %w", network, addr, p, err)
	}
	s := &tcpServer{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve(closeAtOnce)
	return s, nil
}

type tcpServer struct {
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (s *tcpServer) serve(closeAtOnce bool) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if closeAtOnce {
			c.Close()
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			_, _ = io.Copy(io.Discard, c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Addr returns the address the server listens on.
func (s *tcpServer) Addr() netip.AddrPort { return AddrPort(s.ln.Addr()) }

// Close stops the server and closes every connection it holds.
func (s *tcpServer) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func serveUDP(t testing.TB, p place, network, addr string, echo bool) net.PacketConn {
	t.Helper()
	s, err := startUDP(p, network, addr, echo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.pc
}

type udpServer struct {
	pc   net.PacketConn
	done chan struct{}
}

// startUDP opens a UDP socket and serves it until Close.
func startUDP(p place, network, addr string, echo bool) (*udpServer, error) {
	pc, err := p.listenPacket(network, addr)
	if err != nil {
		return nil, fmt.Errorf("lab: listen %s %s in %s: %w", network, addr, p, err)
	}
	s := &udpServer{pc: pc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				// Timeouts, and ICMP errors for earlier replies, do not
				// end the server.
				continue
			}
			if echo {
				_, _ = pc.WriteTo(buf[:n], from)
			}
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *udpServer) Addr() netip.AddrPort { return AddrPort(s.pc.LocalAddr()) }

// Close stops the server.
func (s *udpServer) Close() error {
	err := s.pc.Close()
	<-s.done
	return err
}

// backlogProbeTimeout is how long a fill connection may take before the
// queue is taken to be full. Loopback connects take microseconds.
const backlogProbeTimeout = 300 * time.Millisecond

func fullBacklog(t testing.TB, p place, network, addr string) netip.AddrPort {
	t.Helper()
	b, err := startBacklog(p, network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.addr
}

// backlogServer is a listening socket that never accepts, and the
// connections that fill its queue.
type backlogServer struct {
	fd    int
	addr  netip.AddrPort
	conns []net.Conn
}

// Addr returns the address the socket listens on.
func (b *backlogServer) Addr() netip.AddrPort { return b.addr }

// Close closes the fill connections and the socket.
func (b *backlogServer) Close() error {
	for _, c := range b.conns {
		c.Close()
	}
	return unix.Close(b.fd)
}

func startBacklog(p place, network, addr string) (_ *backlogServer, err error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("lab: full-backlog listener %s in %s: "+format, append([]any{addr, p}, args...)...)
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fail("network %q is not tcp", network)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fail("%w", err)
	}
	domain, sa := sockaddr(ap)
	fd, err := p.socket(domain, unix.SOCK_STREAM)
	if err != nil {
		return nil, fail("%w", err)
	}
	b := &backlogServer{fd: fd}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, fail("SO_REUSEADDR: %w", err)
	}
	if domain == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return nil, fail("IPV6_V6ONLY: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, fail("bind: %w", err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		return nil, fail("listen: %w", err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fail("getsockname: %w", err)
	}
	switch local := local.(type) {
	case *unix.SockaddrInet4:
		b.addr = netip.AddrPortFrom(netip.AddrFrom4(local.Addr), uint16(local.Port))
	case *unix.SockaddrInet6:
		b.addr = netip.AddrPortFrom(netip.AddrFrom16(local.Addr), uint16(local.Port))
	}

	// Linux queues backlog+1 connections; a few more tries cover kernels
	// that count differently.
	for i := 0; i < 16; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), backlogProbeTimeout)
		c, err := p.dial(ctx, network, b.addr.String())
		cancel()
		if err == nil {
			b.conns = append(b.conns, c)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return b, nil
		}
		return nil, fail("filling the queue: %w", err)
	}
	return nil, fail("the queue never filled")
}
