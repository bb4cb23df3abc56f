//go:build linux

package scanner

import (
	"container/heap"
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// A UDP probe is a connected datagram socket: connect() sends nothing but
// makes the kernel deliver only datagrams from the probed address and
// port, and, with IP_RECVERR, queue the ICMP errors that answer it with
// their type, code and sender. One socket carries every request of the
// port's payloads, and is not reused: a late answer to an earlier try
// must not be taken for this one.

// udpSocket opens a datagram socket that queues ICMP errors.
func udpSocket(v6 bool) (int, error) {
	family, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR
	if v6 {
		family, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, err
	}
	unix.SetsockoptInt(fd, level, opt, 1)
	return fd, nil
}

func (w *worker) startUDP(p *probe) {
	p.canaryFd, p.canaryAnswered = -1, false
	addr := p.addr.Addr()
	v6 := addr.Is6() && !addr.Is4In6()
	fd, err := udpSocket(v6)
	if err != nil {
		w.finish(p, classify(err), w.now())
		return
	}
	if len(p.payloads) > 0 && p.payloads[0].SourcePort != 0 {
		// Some servers answer only requests from their peer's port (IKE
		// 500) or send replies there (DHCP 68). It is privileged and may be
		// taken: then the request goes from any port.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		bindPort(fd, v6, p.payloads[0].SourcePort)
	}
	p.sent = w.now()
	if err := unix.Connect(fd, sockaddr(p.addr)); err != nil {
		unix.Close(fd)
		w.finish(p, classify(err), w.now())
		return
	}
	sends := len(p.payloads)
	if sends == 0 {
		sends = 1 // an empty datagram
	}
	for i := 0; i < sends; i++ {
		var data []byte
		if i < len(p.payloads) {
			data = p.payloads[i].Payload
		}
		if _, err := unix.Write(fd, data); err != nil && !errors.Is(err, unix.EAGAIN) {
			// An error from an earlier datagram's ICMP answer, or no route.
			v := w.udpError(fd, p, err)
			unix.Close(fd)
			w.finish(p, v, w.now())
			return
		}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLERR, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		w.finish(p, verdict{again: true}, w.now())
		return
	}
	p.fd = fd
	w.byFd[fd] = p
	heap.Push(&w.timeouts, p)
	if p.canary != 0 {
		w.startCanary(p, v6)
	}
}

// startCanary sends an empty datagram to p's canary port, a port the host
// answered with a port unreachable before.
func (w *worker) startCanary(p *probe, v6 bool) {
	fd, err := udpSocket(v6)
	if err != nil {
		return // without a canary the probe still ends, as limited
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLERR, Fd: int32(fd)}
	if unix.Connect(fd, sockaddr(netip.AddrPortFrom(p.addr.Addr(), p.canary))) != nil ||
		unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
		unix.Close(fd)
		return
	}
	p.canaryFd = fd
	w.byFd[fd] = p
	if _, err := unix.Write(fd, nil); err != nil && !errors.Is(err, unix.EAGAIN) {
		w.settleCanary(p) // already refused: an ICMP error came back
	}
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
	} else if v, ok := w.readUDPErrQueue(fd, p); ok && v.answered {
		p.canaryAnswered = true
	}
	w.closeCanary(p)
}

func (w *worker) closeCanary(p *probe) {
	if p.canaryFd >= 0 {
		delete(w.byFd, p.canaryFd)
		unix.Close(p.canaryFd)
		p.canaryFd = -1
	}
}

// udpTimeout ends a silent UDP probe: open|filtered, and rate limited if
// it had a canary that stayed silent too.
func (w *worker) udpTimeout(p *probe) verdict {
	if p.canaryFd >= 0 {
		w.settleCanary(p) // an answer may have come without waking us yet
	}
	return verdict{state: OpenFiltered, reason: ReasonNoResponse, limited: p.canary != 0 && !p.canaryAnswered}
}

// settleUDP reads what came back on p's socket: a datagram, or an error.
func (w *worker) settleUDP(p *probe, now time.Time) {
	fd := p.fd
	w.forget(p)
	n, err := unix.Read(fd, w.dgram)
	var v verdict
	switch {
	case err == nil:
		v = matchReply(p.payloads, w.dgram[:n])
	case errors.Is(err, unix.EAGAIN):
		// Woken for an error queued without a pending errno.
		var ok bool
		if v, ok = w.readUDPErrQueue(fd, p); !ok {
			v = verdict{state: OpenFiltered, reason: ReasonNoResponse}
		}
	default:
		v = w.udpError(fd, p, err)
	}
	unix.Close(fd)
	if v.state == OpenFiltered && p.canary != 0 {
		v = w.udpTimeout(p)
	}
	w.closeCanary(p)
	w.finish(p, v, now)
}

// udpError reads the ICMP error behind err from the error queue, falling
// back to what err itself says.
func (w *worker) udpError(fd int, p *probe, err error) verdict {
	if v, ok := w.readUDPErrQueue(fd, p); ok {
		return v
	}
	var errno unix.Errno
	if errors.As(err, &errno) && errno == unix.ECONNREFUSED {
		return verdict{state: Closed, reason: ReasonPortUnreach, answered: true}
	}
	return classify(err)
}

func (w *worker) readUDPErrQueue(fd int, p *probe) (verdict, bool) {
	_, oobn, _, _, err := unix.Recvmsg(fd, w.errbuf, w.oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err != nil {
		return verdict{}, false
	}
	v, from, ok := parseErrQueueFrom(w.oob[:oobn], true)
	if ok && v.state == Closed && from.IsValid() && from.Unmap() != p.addr.Addr().Unmap() {
		// A port unreachable that a router sent for the target says
		// nothing of the port itself.
		v = verdict{state: Filtered, reason: ReasonPortUnreach, answered: true}
	}
	return v, ok
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
