//go:build linux

package scanner

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// A UDP probe is a connected datagram socket: connect() sends nothing but
// makes the kernel deliver only datagrams from the probed address and
// port, and, with IP_RECVERR, queue the ICMP errors that answer it with
// their type, code and sender. One socket carries every request of the
// port's payloads. Only a socket that heard nothing but a port
// unreachable is used again, drained and connected to the next port: the
// kernel then drops anything late from the old peer. Any other socket is
// closed, as a reply may have company still queued.

// udpSocket opens a datagram socket that queues ICMP errors.
func (w *worker) udpSocket(v6 bool) (int, error) {
	return w.newSocket(func() (int, error) { return errSocket(v6, unix.SOCK_DGRAM, unix.IPPROTO_UDP) })
}

func (w *worker) startUDP(p *probe) {
	p.canaryFd, p.canaryAnswered = -1, false
	addr := p.addr.Addr()
	v6 := addr.Is6() && !addr.Is4In6()
	var fd int
	var err error
	bound := len(p.payloads) > 0 && p.payloads[0].SourcePort != 0 && !p.unbound
	if bound {
		// Some servers answer only requests from their peer's port (IKE
		// 500) or send replies there (DHCP 68). It is privileged and may be
		// taken: then the request goes from any port.
		if fd, err = w.udpSocket(v6); err == nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			bindPort(fd, v6, p.payloads[0].SourcePort)
		}
	} else {
		fd, err = w.udpSock(v6)
	}
	if err != nil {
		w.finish(p, classify(err), w.now())
		return
	}
	p.sent = w.now()
	if err := unix.Connect(fd, sockaddr(p.addr)); err != nil {
		w.closeSock(fd)
		w.finish(p, classify(err), w.now())
		return
	}
	if w.udpSelf(fd, p) {
		// Sent from the very port it goes to, on this host: the socket
		// would read its own datagrams. Send again from another.
		w.closeSock(fd)
		p.unbound = true
		w.finish(p, verdict{again: true, self: true}, w.now())
		return
	}
	sends := max(len(p.payloads), 1) // no payload: one empty datagram
	for i := 0; i < sends; i++ {
		var data []byte
		if i < len(p.payloads) {
			data = p.payloads[i].Payload
		}
		if _, err := unix.Write(fd, data); err != nil && !errors.Is(err, unix.EAGAIN) {
			// An earlier datagram's ICMP answer, or no route.
			w.concludeUDP(p, fd, v6, w.udpError(fd, p, err), w.now())
			return
		}
	}
	// On loopback the answer to a closed port is already in: read it now
	// and spare the epoll round.
	if n, err := unix.Read(fd, w.dgram); !errors.Is(err, unix.EAGAIN) {
		v := verdict{}
		if err == nil {
			v = matchReply(p.payloads, w.dgram[:n])
		} else {
			v = w.udpError(fd, p, err)
		}
		w.concludeUDP(p, fd, v6, v, w.now())
		return
	}
	if w.watch(p, fd, unix.EPOLLIN|unix.EPOLLERR) && p.canary != 0 {
		if v := classify(w.startCanary(p, v6)); v.again {
			// Without its canary the probe cannot tell silence from rate
			// limiting: send both again when there is room.
			w.forget(p)
			unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, fd, nil)
			w.closeSock(fd)
			w.finish(p, v, w.now())
		}
	}
}

// udpSock returns a UDP socket from the pool, or a new one.
func (w *worker) udpSock(v6 bool) (int, error) {
	if fd, ok := w.udpPool[family(v6)].get(); ok {
		return fd, nil
	}
	return w.udpSocket(v6)
}

// concludeUDP ends p with v. A socket that heard a port unreachable and
// nothing else is cleaned and kept for the next probe: connecting it
// elsewhere makes the kernel drop anything late from the old peer.
// Others are closed: a reply may have company still queued.
func (w *worker) concludeUDP(p *probe, fd int, v6 bool, v verdict, now time.Time) {
	pool := &w.udpPool[family(v6)]
	if v.state == result.Closed && len(*pool) < w.poolCap && drainErrors(fd, w.errbuf, w.oob) {
		pool.put(fd)
	} else {
		w.closeSock(fd)
	}
	w.finish(p, v, now)
}

// drainErrors empties fd's error queue and pending error, and reports
// whether that worked.
func drainErrors(fd int, buf, oob []byte) bool {
	for i := 0; i < 16; i++ {
		if _, _, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT); err != nil {
			unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			return errors.Is(err, unix.EAGAIN)
		}
	}
	return false
}

// closeSock closes a probe socket, forgets its cached local port and
// returns its descriptor to the budget.
func (w *worker) closeSock(fd int) {
	delete(w.udpLocal, fd)
	unix.Close(fd)
	w.fds.give()
}

// udpSelf reports whether fd, now connected to p's port, was given that
// same address and port as its own.
func (w *worker) udpSelf(fd int, p *probe) bool {
	port, ok := w.udpLocal[fd]
	if !ok {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return false
		}
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			port = uint16(a.Port)
		case *unix.SockaddrInet6:
			port = uint16(a.Port)
		}
		w.udpLocal[fd] = port // the port stays when the socket is reused
	}
	if port != p.addr.Port() {
		return false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Addr == p.addr.Addr().Unmap().As4()
	case *unix.SockaddrInet6:
		return a.Addr == p.addr.Addr().As16()
	}
	return false
}

// startCanary sends an empty datagram to p's canary port, a port the host
// answered with a port unreachable before. It returns the error of a
// socket that could not be opened.
func (w *worker) startCanary(p *probe, v6 bool) error {
	fd, err := w.udpSocket(v6)
	if err != nil {
		return err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLERR, Fd: int32(fd)}
	if unix.Connect(fd, sockaddr(netip.AddrPortFrom(p.addr.Addr(), p.canary))) != nil ||
		unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
		w.closeSock(fd)
		return nil // without a canary the probe still ends, as limited
	}
	p.canaryFd = fd
	w.byFd[fd] = p
	if _, err := unix.Write(fd, nil); err != nil && !errors.Is(err, unix.EAGAIN) {
		w.settleCanary(p) // already refused: an ICMP error came back
	}
	return nil
}

// settleCanary notes whether the canary drew an answer, and closes it.
func (w *worker) settleCanary(p *probe) {
	fd := p.canaryFd
	if fd < 0 {
		return
	}
	_, err := unix.Read(fd, w.dgram)
	if err == nil || errors.Is(err, unix.ECONNREFUSED) {
		p.canaryAnswered = true // a port unreachable (or even a reply)
	} else if v, ok := w.readErrQueue(fd, p, ports.UDP); ok && v.answered {
		p.canaryAnswered = true
	}
	w.closeCanary(p)
}

func (w *worker) closeCanary(p *probe) {
	if p.canaryFd >= 0 {
		delete(w.byFd, p.canaryFd)
		w.closeSock(p.canaryFd)
		p.canaryFd = -1
	}
}

// udpTimeout ends a silent UDP probe: open|filtered, and rate limited if
// it had a canary that stayed silent too.
func (w *worker) udpTimeout(p *probe) verdict {
	if p.canaryFd >= 0 {
		w.settleCanary(p) // an answer may have come without waking us yet
	}
	return verdict{state: result.OpenFiltered, reason: result.ReasonNoResponse, limited: p.canary != 0 && !p.canaryAnswered}
}

// settleUDP reads what came back on p's socket: a datagram, or an error.
func (w *worker) settleUDP(p *probe, now time.Time) {
	fd := p.fd
	w.forget(p)
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	n, err := unix.Read(fd, w.dgram)
	var v verdict
	switch {
	case err == nil:
		v = matchReply(p.payloads, w.dgram[:n])
	case errors.Is(err, unix.EAGAIN):
		// Woken for an error queued without a pending errno.
		var ok bool
		if v, ok = w.readErrQueue(fd, p, ports.UDP); !ok {
			v = w.udpTimeout(p)
		}
	default:
		v = w.udpError(fd, p, err)
	}
	w.closeCanary(p)
	a := p.addr.Addr()
	w.concludeUDP(p, fd, a.Is6() && !a.Is4In6(), v, now)
}

// udpError reads the ICMP error behind err from the error queue, falling
// back to what err itself says.
func (w *worker) udpError(fd int, p *probe, err error) verdict {
	if v, ok := w.readErrQueue(fd, p, ports.UDP); ok {
		return v
	}
	var errno unix.Errno
	if errors.As(err, &errno) && errno == unix.ECONNREFUSED {
		return verdict{state: result.Closed, reason: result.ReasonPortUnreach, answered: true}
	}
	return classify(err)
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr()
	if a.Is6() && !a.Is4In6() {
		s6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
		if z := a.Zone(); z != "" {
			s6.ZoneId = zoneIndex(z)
		}
		return s6
	}
	return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
}

func bindPort(fd int, v6 bool, port uint16) {
	if v6 {
		unix.Bind(fd, &unix.SockaddrInet6{Port: int(port)})
	} else {
		unix.Bind(fd, &unix.SockaddrInet4{Port: int(port)})
	}
}
