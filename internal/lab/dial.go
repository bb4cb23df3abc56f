package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// ErrAddress is returned by DialContext for an address that is not an IP
// literal with a port, or a network other than tcp and udp.
var ErrAddress = errors.New("lab: dial needs tcp or udp and an IP:port literal")

type sockResp struct {
	fd  int
	err error
}

// poolSize is how many sockets of each kind the namespace keeps ready.
const poolSize = 64

// sockKind numbers the four kinds of socket DialContext makes.
func sockKind(domain, typ int) int {
	k := 0
	if domain == unix.AF_INET6 {
		k |= 1
	}
	if typ == unix.SOCK_DGRAM {
		k |= 2
	}
	return k
}

// socket returns a non-blocking socket made inside the namespace. One
// goroutine, locked to a thread that stays in the namespace, makes every
// socket of the namespace, and keeps a few of each kind in use ready, so
// that a dial seldom waits for that thread.
func (ns *Namespace) socket(domain, typ int) (int, error) {
	ns.workerOnce.Do(func() {
		for k := range ns.pools {
			ns.pools[k] = make(chan sockResp, poolSize)
		}
		ns.wake = make(chan struct{}, 1)
		started := make(chan error, 1)
		go ns.socketWorker(started)
		ns.workerErr = <-started
	})
	if ns.workerErr != nil {
		return -1, fmt.Errorf("lab: making sockets in %s: %w", ns.name, ns.workerErr)
	}
	k := sockKind(domain, typ)
	ns.wanted[k].Store(true)
	var r sockResp
	select {
	case r = <-ns.pools[k]:
	default:
		ns.poke()
		select {
		case r = <-ns.pools[k]:
		case <-ns.done:
			return -1, ErrClosed
		}
	}
	ns.poke()
	return r.fd, r.err
}

// poke asks the socket maker to top its pools up.
func (ns *Namespace) poke() {
	select {
	case ns.wake <- struct{}{}:
	default:
	}
}

// socketWorker makes the namespace's sockets until it is deleted.
func (ns *Namespace) socketWorker(started chan<- error) {
	runtime.LockOSThread()
	restore, err := enter(ns.Path())
	if err != nil {
		runtime.UnlockOSThread()
		started <- err
		return
	}
	started <- nil
	kinds := [4][2]int{
		{unix.AF_INET, unix.SOCK_STREAM}, {unix.AF_INET6, unix.SOCK_STREAM},
		{unix.AF_INET, unix.SOCK_DGRAM}, {unix.AF_INET6, unix.SOCK_DGRAM},
	}
	for {
		for k, pool := range ns.pools {
			// Only this goroutine sends, so a pool with room takes a send
			// without blocking.
			for ns.wanted[k].Load() && len(pool) < cap(pool) {
				fd, err := unix.Socket(kinds[k][0], kinds[k][1]|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					pool <- sockResp{fd: -1, err: os.NewSyscallError("socket", err)}
					break // try again when poked
				}
				pool <- sockResp{fd: fd}
			}
		}
		select {
		case <-ns.wake:
		case <-ns.done:
			for _, pool := range ns.pools {
				for len(pool) > 0 {
					if r := <-pool; r.err == nil {
						unix.Close(r.fd)
					}
				}
			}
			if restore() == nil {
				runtime.UnlockOSThread()
			}
			// Otherwise the goroutine ends locked and the runtime ends the
			// thread with it.
			return
		}
	}
}

// DialContext connects from inside the namespace, like net.Dialer's
// DialContext, so that it can be handed to the scanner as its Dial
// function. network is tcp, tcp4, tcp6, udp, udp4 or udp6; address must be
// an IP literal and port ("127.0.0.1:80", "[::1]:22"): there is no name
// resolution.
//
// Errors look like the net package's: a *net.OpError wrapping an
// *os.SyscallError for the errno (errors.Is(err, syscall.ECONNREFUSED)), or
// wrapping os.ErrDeadlineExceeded when the context's deadline passed
// (its Timeout method reports true), or the context's error when it was
// cancelled.
//
// Unlike net.Dialer, DialContext also reports at once an error the kernel
// kept as a soft error (SO_ERROR) rather than failing the connect with it.
// That happens on loopback, where an ICMP reject of the SYN is handled
// while connect still holds the socket: net.Dialer then sees the error
// only when the SYN is sent again, about a second later (always so for
// ICMPv6 rejects of IPv6 connects in these labs). On a real network the
// ICMP error arrives later and both report it at once.
func (ns *Namespace) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrAddress, address, err)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	var typ int
	switch network {
	case "tcp", "tcp4", "tcp6":
		typ = unix.SOCK_STREAM
	case "udp", "udp4", "udp6":
		typ = unix.SOCK_DGRAM
	default:
		return nil, fmt.Errorf("%w: network %q", ErrAddress, network)
	}
	is4 := ap.Addr().Is4()
	if (is4 && (network == "tcp6" || network == "udp6")) || (!is4 && (network == "tcp4" || network == "udp4")) {
		return nil, fmt.Errorf("%w: %s address on network %s", ErrAddress, ap.Addr(), network)
	}
	var raddr net.Addr = net.TCPAddrFromAddrPort(ap)
	if typ == unix.SOCK_DGRAM {
		raddr = net.UDPAddrFromAddrPort(ap)
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}

	domain, sa := sockaddr(ap)
	fd, err := ns.socket(domain, typ)
	if err != nil {
		return nil, opErr(err)
	}
	// os.NewFile sees the descriptor is non-blocking and registers it with
	// the runtime's poller, so deadlines work while the connect is pending.
	f := os.NewFile(uintptr(fd), "lab-dial")
	defer f.Close() // net.FileConn keeps a duplicate
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, opErr(err)
	}
	var connErr error
	if err := rc.Control(func(fd uintptr) { connErr = unix.Connect(int(fd), sa) }); err != nil {
		return nil, opErr(err)
	}
	switch {
	case connErr == nil:
	case errors.Is(connErr, unix.EINPROGRESS) || errors.Is(connErr, unix.EINTR):
		if err := waitConnect(ctx, f, rc); err != nil {
			return nil, opErr(err)
		}
	default:
		return nil, opErr(os.NewSyscallError("connect", connErr))
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, opErr(err)
	}
	return c, nil
}

// waitConnect waits for a non-blocking connect to finish, fail, or run out
// of time.
func waitConnect(ctx context.Context, f *os.File, rc interface {
	Write(func(uintptr) bool) error
}) error {
	if d, ok := ctx.Deadline(); ok {
		if err := f.SetWriteDeadline(d); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()

	var result error
	err := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			result = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := unix.Errno(v); e {
		case 0:
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		default:
			result = os.NewSyscallError("connect", e)
			return true
		}
		// SO_ERROR is also 0 while the handshake is still going on;
		// only a peer name says it is done.
		if _, err := unix.Getpeername(int(fd)); err != nil {
			if errors.Is(err, unix.ENOTCONN) {
				return false
			}
			result = os.NewSyscallError("getpeername", err)
		}
		return true
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
			return cerr
		}
		return err
	}
	return result
}

// sockaddr returns the socket family and address for ap.
func sockaddr(ap netip.AddrPort) (int, unix.Sockaddr) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}
