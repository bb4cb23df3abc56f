package raw

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ErrPermission is matched (errors.Is) by the error of Open and Check
// when the process may not open raw sockets: it needs CAP_NET_RAW.
var ErrPermission = errors.New("raw sockets need root or CAP_NET_RAW")

// ErrClosed is returned by the methods of a Conn once it is closed.
var ErrClosed = errors.New("raw: connection closed")

// ErrLinkType is returned by Open for an interface whose frames are not
// Ethernet's (a tunnel, PPP): the prober writes Ethernet headers.
var ErrLinkType = errors.New("raw: link type not supported")

// Check reports whether this process may open raw sockets, by opening one
// and closing it at once. The error matches ErrPermission when it may not.
//
// It opens a raw IP socket, which needs CAP_NET_RAW as AF_PACKET does:
// closing an AF_PACKET socket waits for an RCU grace period
// (synchronize_net), some milliseconds a call, while a raw IP socket
// closes at once. Without IPv4 or IPv6 it tries AF_PACKET itself.
func Check() error {
	for i, af := range []int{unix.AF_INET, unix.AF_INET6} {
		fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if !errors.Is(err, unix.EAFNOSUPPORT) {
			return socketError([]string{"AF_INET", "AF_INET6"}[i], err)
		}
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return socketError("AF_PACKET", err)
	}
	unix.Close(fd)
	return nil
}

// socketError classifies the error of socket(2) for a socket of family
// af: "AF_PACKET", "AF_INET", ...
func socketError(af string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: socket(%s): %w", ErrPermission, af, err)
	}
	return fmt.Errorf("raw: socket(%s): %w", af, err)
}

// Conn is an AF_PACKET socket on one interface: frames written go out on
// it as they are, link header first; frames read are those received on it
// that the filter passed. Frames the host itself sends on the interface
// are never read. Write and read from any goroutines; Close ends a
// ReadBatch waiting in another.
type Conn struct {
	fd   int
	evfd int // wakes a ReadBatch when the Conn closes
	ifi  Interface
	// On loopback, frames are sent through raw IP sockets (IPv4, IPv6):
	// the kernel takes a packet to 127.0.0.0/8 that comes in on lo
	// without having gone out through the IP stack for a martian, and
	// drops it. They send only to the host's own addresses (local).
	ipfd   [2]int
	local  sync.Map     // netip.Addr: bool, whether the kernel routes it locally
	nlocal atomic.Int64 // the addresses in local, about: at localCacheMax it starts again
	nl     *Netlink

	mu     sync.RWMutex // held for reading by calls that use fd; Close takes it for writing
	closed bool
	// outgoing says the kernel would not drop the frames the host sends
	// (no PACKET_IGNORE_OUTGOING, before Linux 4.20): the filter must.
	outgoing bool

	wsa   unix.RawSockaddrLinklayer
	wbufs sync.Pool // of *writeBufs: writers may send at once

	rmsgs []mmsghdr
	riov  []unix.Iovec
	rmu   sync.Mutex
}

// writeBufs are the headers of one sendmmsg call.
type writeBufs struct {
	msgs []mmsghdr
	iov  []unix.Iovec
	sa4  []unix.RawSockaddrInet4
	sa6  []unix.RawSockaddrInet6
}

func (w *writeBufs) grow(n int) {
	if cap(w.msgs) < n {
		w.msgs = make([]mmsghdr, n)
		w.iov = make([]unix.Iovec, n)
		w.sa4 = make([]unix.RawSockaddrInet4, n)
		w.sa6 = make([]unix.RawSockaddrInet6, n)
	}
}

// mmsghdr is struct mmsghdr: a msghdr and the length the call moved.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// Open opens a raw socket on the interface. It receives nothing until
// SetFilter. The interface must carry Ethernet frames (Ethernet, veth,
// bridges, loopback): others fail with ErrLinkType.
func Open(ifi Interface) (*Conn, error) {
	if ifi.Link != LinkEthernet {
		return nil, fmt.Errorf("%w: %s is %s, and only Ethernet and loopback interfaces are supported", ErrLinkType, ifi.Name, ifi.Link)
	}
	// Protocol 0 receives nothing: frames start to come in only once
	// SetFilter has attached the filter and bound the socket to them.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError("AF_PACKET", err)
	}
	c := &Conn{fd: fd, ifi: ifi, evfd: -1, ipfd: [2]int{-1, -1}}
	if err := c.bind(0); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if ifi.Loopback {
		if c.nl, err = OpenNetlink(); err != nil {
			c.closeFds()
			return nil, err
		}
		if err := c.openIP(); err != nil {
			c.closeFds()
			return nil, err
		}
	}
	if unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1) != nil {
		c.outgoing = true
	}
	// Skip the qdisc: the frames are sent as they are, at once. Older
	// kernels lack it; sending works either way.
	unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	// Room for a burst of replies: past the default, a scan of every
	// port of a fast host would lose some. Root may force the size.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 4<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	}
	c.evfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		c.closeFds()
		return nil, fmt.Errorf("raw: eventfd: %w", err)
	}
	c.wsa = unix.RawSockaddrLinklayer{Family: unix.AF_PACKET, Ifindex: int32(ifi.Index)}
	return c, nil
}

// openIP opens the raw IP sockets that send on loopback, bound to it.
func (c *Conn) openIP() error {
	for i, af := range []int{unix.AF_INET, unix.AF_INET6} {
		// IPPROTO_RAW: the packet is given whole, header included.
		fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			if af == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
				continue // no IPv6 here: IPv4 alone
			}
			return socketError([]string{"AF_INET", "AF_INET6"}[i], err)
		}
		c.ipfd[i] = fd
		// Not bound to lo: the kernel would then take the host's own
		// addresses other than 127.0.0.0/8 and ::1 for addresses on
		// lo's link, not local ones, and never answer them. writeIP
		// sends only to the host's own addresses instead, which the
		// kernel routes nowhere but through lo.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	}
	return nil
}

func (c *Conn) closeFds() {
	if c.nl != nil {
		c.nl.Close()
	}
	for _, fd := range []int{c.fd, c.evfd, c.ipfd[0], c.ipfd[1]} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func (c *Conn) bind(proto uint16) error {
	sa := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: c.ifi.Index}
	if err := unix.Bind(c.fd, sa); err != nil {
		return fmt.Errorf("raw: bind to %s: %w", c.ifi.Name, err)
	}
	return nil
}

// Interface returns the interface the Conn is on.
func (c *Conn) Interface() Interface { return c.ifi }

// SetFilter attaches a classic BPF program (see Filter) and starts
// receiving what it passes. A frame the program returns 0 for never
// leaves the kernel. It may be called again to replace the program.
func (c *Conn) SetFilter(prog []bpf.Instruction) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	if c.outgoing {
		prog = append(dropOutgoing(len(prog)), prog...)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("raw: assembling the filter: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(raw)), Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0]))}
	if err := unix.SetsockoptSockFprog(c.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("raw: attaching the filter: %w", err)
	}
	if err := c.bind(unix.ETH_P_ALL); err != nil {
		return err
	}
	return nil
}

// dropOutgoing is a prologue that drops the frames the host sends, for
// kernels without PACKET_IGNORE_OUTGOING; n is the length of the program
// it goes before.
func dropOutgoing(n int) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	}
}

// WriteBatch sends the frames, in order, with as few system calls as the
// kernel allows (sendmmsg), and returns how many it sent. Several
// goroutines may write at once, which spreads the kernel's work of
// sending (on loopback, of answering too) over the CPUs. Each frame is
// whole: link header, network header and the rest. A frame the kernel
// refuses stops the batch with its error (ENOBUFS when the device's queue
// is full: send the rest again later).
func (c *Conn) WriteBatch(frames [][]byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return 0, ErrClosed
	}
	w, _ := c.wbufs.Get().(*writeBufs)
	if w == nil {
		w = new(writeBufs)
	}
	defer c.wbufs.Put(w)
	if c.ifi.Loopback {
		return c.writeIP(w, frames)
	}
	sent := 0
	for sent < len(frames) {
		n := min(len(frames)-sent, 1024)
		w.grow(n)
		msgs, iov := w.msgs[:n], w.iov[:n]
		for i := range n {
			f := frames[sent+i]
			iov[i] = unix.Iovec{}
			if len(f) > 0 {
				iov[i].Base = &f[0]
			}
			iov[i].SetLen(len(f))
			msgs[i] = mmsghdr{}
			msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&c.wsa))
			msgs[i].hdr.Namelen = uint32(unsafe.Sizeof(c.wsa))
			msgs[i].hdr.Iov = &iov[i]
			msgs[i].hdr.SetIovlen(1)
		}
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(n), 0, 0, 0)
		if e != 0 {
			if e == unix.EINTR {
				continue
			}
			return sent, fmt.Errorf("raw: sendmmsg on %s: %w", c.ifi.Name, e)
		}
		sent += int(r)
		if int(r) == 0 {
			return sent, fmt.Errorf("raw: sendmmsg on %s: %w", c.ifi.Name, unix.ENOBUFS)
		}
	}
	return sent, nil
}

// writeIP sends frames on loopback through the raw IP sockets: each
// frame less its link header, a run of one family a system call.
func (c *Conn) writeIP(w *writeBufs, frames [][]byte) (int, error) {
	sent := 0
	for sent < len(frames) {
		fam := ipFamily(frames[sent])
		if fam < 0 || c.ipfd[fam] < 0 {
			return sent, fmt.Errorf("raw: %s carries only IPv4 and IPv6 frames: %w", c.ifi.Name, unix.EINVAL)
		}
		n := 0
		for n < 1024 && sent+n < len(frames) && ipFamily(frames[sent+n]) == fam {
			if err := c.checkLocal(frames[sent+n], fam); err != nil {
				if n == 0 {
					return sent, err
				}
				break // send those before it; the next call fails on it
			}
			n++
		}
		w.grow(n)
		msgs, iov := w.msgs[:n], w.iov[:n]
		for i := range n {
			pkt := ipPacket(frames[sent+i][ethLen:], fam)
			iov[i] = unix.Iovec{Base: &pkt[0]}
			iov[i].SetLen(len(pkt))
			msgs[i] = mmsghdr{}
			if fam == 0 {
				sa := &w.sa4[i]
				*sa = unix.RawSockaddrInet4{Family: unix.AF_INET}
				copy(sa.Addr[:], pkt[16:20])
				msgs[i].hdr.Name = (*byte)(unsafe.Pointer(sa))
				msgs[i].hdr.Namelen = unix.SizeofSockaddrInet4
			} else {
				sa := &w.sa6[i]
				*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6}
				copy(sa.Addr[:], pkt[24:40])
				msgs[i].hdr.Name = (*byte)(unsafe.Pointer(sa))
				msgs[i].hdr.Namelen = unix.SizeofSockaddrInet6
			}
			msgs[i].hdr.Iov = &iov[i]
			msgs[i].hdr.SetIovlen(1)
		}
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(c.ipfd[fam]), uintptr(unsafe.Pointer(&msgs[0])), uintptr(n), 0, 0, 0)
		if e != 0 {
			if e == unix.EINTR {
				continue
			}
			return sent, fmt.Errorf("raw: sendmmsg on %s: %w", c.ifi.Name, e)
		}
		if r == 0 {
			return sent, fmt.Errorf("raw: sendmmsg on %s: %w", c.ifi.Name, unix.ENOBUFS)
		}
		sent += int(r)
	}
	return sent, nil
}

// localCacheMax bounds the addresses checkLocal remembers: a scan of
// 127.0.0.0/8 sends to millions.
const localCacheMax = 4096

// checkLocal refuses a frame on loopback to an address that is not the
// host's own: it would leave by another interface.
func (c *Conn) checkLocal(f []byte, fam int) error {
	var dst netip.Addr
	if fam == 0 {
		dst = netip.AddrFrom4([4]byte(f[ethLen+16 : ethLen+20]))
	} else {
		dst = netip.AddrFrom16([16]byte(f[ethLen+24 : ethLen+40]))
	}
	if ok, known := c.local.Load(dst); known {
		if ok.(bool) {
			return nil
		}
	} else {
		r, err := c.nl.Route(dst)
		local := err == nil && r.Local()
		if c.nlocal.Add(1) > localCacheMax {
			c.local.Clear()
			c.nlocal.Store(1)
		}
		c.local.Store(dst, local)
		if local {
			return nil
		}
	}
	return fmt.Errorf("raw: %s is not an address of this host, which is all %s sends to: %w", dst, c.ifi.Name, unix.EINVAL)
}

// ipPacket cuts a packet to the length its header gives, without the
// padding of a short Ethernet frame: the kernel would count the padding
// in the packet it sends.
func ipPacket(b []byte, fam int) []byte {
	var l int
	if fam == 0 {
		l = int(b[2])<<8 | int(b[3])
	} else {
		l = ip6Len + (int(b[4])<<8 | int(b[5]))
	}
	if l > 0 && l < len(b) {
		return b[:l]
	}
	return b
}

// ipFamily says whether a frame carries IPv4 (0) or IPv6 (1), whole
// enough to be sent: -1 for anything else.
func ipFamily(f []byte) int {
	switch {
	case len(f) >= ethLen+20 && f[12] == 0x08 && f[13] == 0x00 && f[ethLen]>>4 == 4:
		return 0
	case len(f) >= ethLen+ip6Len && f[12] == 0x86 && f[13] == 0xdd && f[ethLen]>>4 == 6:
		return 1
	}
	return -1
}

// ReadBatch waits up to timeout (negative: no limit) for frames, then
// reads those waiting into bufs, one a buffer (recvmmsg), and sets n[i]
// to the length of bufs[i]'s frame. It returns how many it read: 0 when
// the time ran out. A frame longer than its buffer is cut short. Close
// ends a ReadBatch waiting, with ErrClosed. One goroutine reads at a time.
func (c *Conn) ReadBatch(bufs [][]byte, n []int, timeout time.Duration) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.mu.RLock()
	closed, fd, evfd := c.closed, c.fd, c.evfd
	c.mu.RUnlock()
	if closed { // Close waits for rmu to close fd: it stays open meanwhile
		return 0, ErrClosed
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(evfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		_, err := unix.Poll(fds, ms)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 0, fmt.Errorf("raw: poll: %w", err)
		}
		if timeout >= 0 {
			ms = max(0, int(time.Until(deadline)/time.Millisecond))
		}
	}
	if fds[1].Revents != 0 {
		return 0, ErrClosed
	}
	if fds[0].Revents == 0 {
		return 0, nil
	}
	k := min(len(bufs), len(n))
	if k == 0 {
		return 0, nil
	}
	if cap(c.rmsgs) < k {
		c.rmsgs = make([]mmsghdr, k)
		c.riov = make([]unix.Iovec, k)
	}
	msgs, iov := c.rmsgs[:k], c.riov[:k]
	for i := range k {
		iov[i] = unix.Iovec{Base: &bufs[i][0]}
		iov[i].SetLen(len(bufs[i]))
		msgs[i] = mmsghdr{}
		msgs[i].hdr.Iov = &iov[i]
		msgs[i].hdr.SetIovlen(1)
	}
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			for i := range int(r) {
				n[i] = min(int(msgs[i].len), len(bufs[i]))
			}
			return int(r), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, fmt.Errorf("raw: recvmmsg on %s: %w", c.ifi.Name, e)
	}
}

// Stats are the counts of the socket's receive queue since the last call.
type Stats struct {
	Received uint32 // frames the filter passed
	Dropped  uint32 // of which lost, the queue being full
}

// Stats returns the frames received and dropped since the last call.
func (c *Conn) Stats() (Stats, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return Stats{}, ErrClosed
	}
	var st unix.TpacketStats
	l := uint32(unsafe.Sizeof(st))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), unix.SOL_PACKET, unix.PACKET_STATISTICS, uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return Stats{}, os.NewSyscallError("getsockopt", e)
	}
	return Stats{Received: st.Packets, Dropped: st.Drops}, nil
}

// Close closes the socket; a ReadBatch waiting returns ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	one := [8]byte{1}
	unix.Write(c.evfd, one[:]) // wakes a reader, and keeps the next from waiting
	c.mu.Unlock()
	c.rmu.Lock() // no reader is left in poll or recvmmsg
	defer c.rmu.Unlock()
	c.closeFds()
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
