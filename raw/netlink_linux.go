package raw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// LinkType says what frames an interface carries.
type LinkType uint8

const (
	// LinkOther is any link Conn cannot write: tunnels, PPP, raw IP.
	LinkOther LinkType = iota
	// LinkEthernet is Ethernet framing: Ethernet devices, veth, bridges,
	// and loopback, whose frames have Ethernet headers with zero
	// addresses.
	LinkEthernet
)

func (l LinkType) String() string {
	if l == LinkEthernet {
		return "ethernet"
	}
	return "not ethernet"
}

// Interface is a network interface as the kernel describes it.
type Interface struct {
	Index int
	Name  string
	MTU   int
	// MAC is the interface's link address: zero (six zero bytes) on
	// loopback.
	MAC  net.HardwareAddr
	Type uint16 // the ARPHRD_ hardware type
	Link LinkType
	// Loopback is set on lo; NoARP on interfaces without neighbour
	// resolution (lo, point-to-point links), whose frames need no
	// destination address.
	Loopback, NoARP bool
	Up              bool
}

// Route is where the kernel sends a packet to Dst.
type Route struct {
	Dst     netip.Addr
	Src     netip.Addr // the source address the kernel would pick
	Gateway netip.Addr // the router, if the destination is not on link
	Ifindex int        // the output interface
	Type    uint8      // unix.RTN_UNICAST, unix.RTN_LOCAL, ...
}

// Local reports whether Dst is an address of this host: it is reached on
// loopback.
func (r Route) Local() bool { return r.Type == unix.RTN_LOCAL }

// NextHop is the address whose link address frames to Dst carry: the
// gateway, or Dst itself on link.
func (r Route) NextHop() netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	return r.Dst
}

// Neighbor is an entry of the kernel's neighbour table (ARP, NDP).
type Neighbor struct {
	Addr    netip.Addr
	MAC     net.HardwareAddr
	State   uint16 // unix.NUD_ flags
	Ifindex int
}

// Usable reports whether the entry holds a link address frames may be
// sent to (reachable, stale or being checked, permanent).
func (n Neighbor) Usable() bool {
	const ok = unix.NUD_REACHABLE | unix.NUD_STALE | unix.NUD_DELAY | unix.NUD_PROBE | unix.NUD_PERMANENT | unix.NUD_NOARP
	return n.State&ok != 0 && len(n.MAC) > 0
}

// Netlink asks the kernel's routing tables over one rtnetlink socket.
// Its methods may be called from any goroutine.
type Netlink struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

// OpenNetlink opens an rtnetlink socket. It needs no privilege.
func OpenNetlink() (*Netlink, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("raw: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("raw: netlink bind: %w", err)
	}
	return &Netlink{fd: fd, buf: make([]byte, 1<<16)}, nil
}

// Close closes the socket.
func (nl *Netlink) Close() error {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if nl.fd < 0 {
		return nil
	}
	err := unix.Close(nl.fd)
	nl.fd = -1
	return err
}

// request sends one message of type typ with body and attributes and
// calls each for every message of the answer, until the kernel is done.
// A netlink error comes back as its errno.
func (nl *Netlink) request(typ uint16, flags uint16, body []byte, attrs []byte, each func(m syscall.NetlinkMessage) error) error {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if nl.fd < 0 {
		return ErrClosed
	}
	nl.seq++
	seq := nl.seq
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body)+len(attrs))
	msg = append(msg, body...)
	msg = append(msg, attrs...)
	hdr := (*unix.NlMsghdr)(unsafe.Pointer(&msg[0]))
	*hdr = unix.NlMsghdr{Len: uint32(len(msg)), Type: typ, Flags: unix.NLM_F_REQUEST | flags, Seq: seq}
	if err := unix.Sendto(nl.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("raw: netlink send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(nl.fd, nl.buf, 0)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("raw: netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(nl.buf[:n])
		if err != nil {
			return fmt.Errorf("raw: netlink answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue // a late answer to an earlier request
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return errors.New("raw: short netlink error")
				}
				if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
					return unix.Errno(-code)
				}
				return nil // an acknowledgement
			}
			if err := each(m); err != nil {
				return err
			}
			if m.Header.Flags&unix.NLM_F_MULTI == 0 {
				return nil
			}
		}
	}
}

// attr encodes one route attribute.
func attr(typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+unix.RTA_ALIGNTO-1) & ^(unix.RTA_ALIGNTO-1))
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

func addrBytes(a netip.Addr) (family uint8, b []byte) {
	if a.Is4() {
		v := a.As4()
		return unix.AF_INET, v[:]
	}
	v := a.As16()
	return unix.AF_INET6, v[:]
}

func addrFrom(b []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(b)
	return a
}

// rtAttr is one route attribute of a netlink message.
type rtAttr struct {
	Attr  struct{ Type uint16 }
	Value []byte
}

// parseAttrs reads the attributes after the fixed header of a link,
// route or neighbour message (syscall.ParseNetlinkRouteAttr knows no
// neighbour messages).
func parseAttrs(m *syscall.NetlinkMessage) ([]rtAttr, error) {
	var skip int
	switch m.Header.Type {
	case unix.RTM_NEWLINK:
		skip = unix.SizeofIfInfomsg
	case unix.RTM_NEWROUTE:
		skip = unix.SizeofRtMsg
	case unix.RTM_NEWNEIGH:
		skip = unix.SizeofNdMsg
	default:
		return nil, fmt.Errorf("raw: netlink message of type %d has no attributes to read", m.Header.Type)
	}
	if len(m.Data) < skip {
		return nil, errors.New("raw: short netlink message")
	}
	b := m.Data[skip:]
	var out []rtAttr
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < unix.SizeofRtAttr || l > len(b) {
			return nil, fmt.Errorf("raw: netlink attribute of length %d in %d bytes", l, len(b))
		}
		var a rtAttr
		a.Attr.Type = binary.NativeEndian.Uint16(b[2:]) & 0x3fff // without the nested and byte-order flags
		a.Value = b[unix.SizeofRtAttr:l]
		out = append(out, a)
		al := (l + unix.RTA_ALIGNTO - 1) & ^(unix.RTA_ALIGNTO - 1)
		if al >= len(b) {
			break
		}
		b = b[al:]
	}
	return out, nil
}

// Route asks the kernel where it would send a packet to dst (ip route get
// DST). An address with no route fails with unix.ENETUNREACH, a route of
// type unreachable with unix.EHOSTUNREACH, prohibit with unix.EACCES.
func (nl *Netlink) Route(dst netip.Addr) (Route, error) {
	dst = dst.Unmap()
	if !dst.IsValid() {
		return Route{}, errors.New("raw: route to an invalid address")
	}
	fam, b := addrBytes(dst)
	body := make([]byte, unix.SizeofRtMsg)
	rt := (*unix.RtMsg)(unsafe.Pointer(&body[0]))
	*rt = unix.RtMsg{Family: fam, Dst_len: uint8(len(b) * 8)}
	r := Route{Dst: dst}
	found := false
	err := nl.request(unix.RTM_GETROUTE, 0, body, attr(unix.RTA_DST, b), func(m syscall.NetlinkMessage) error {
		if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
			return nil
		}
		found = true
		r.Type = m.Data[7] // rtm_type
		attrs, err := parseAttrs(&m)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.RTA_OIF:
				if len(a.Value) >= 4 {
					r.Ifindex = int(binary.NativeEndian.Uint32(a.Value))
				}
			case unix.RTA_PREFSRC:
				r.Src = addrFrom(a.Value)
			case unix.RTA_GATEWAY:
				r.Gateway = addrFrom(a.Value)
			case unix.RTA_VIA:
				// struct rtvia: family, then the address (an IPv6
				// router for an IPv4 route).
				if len(a.Value) > 2 {
					r.Gateway = addrFrom(a.Value[2:])
				}
			}
		}
		return nil
	})
	if err != nil {
		return Route{}, fmt.Errorf("raw: route to %s: %w", dst, err)
	}
	if !found || r.Ifindex == 0 {
		return Route{}, fmt.Errorf("raw: route to %s: %w", dst, unix.ENETUNREACH)
	}
	return r, nil
}

// Link describes the interface of that index.
func (nl *Netlink) Link(index int) (Interface, error) {
	body := make([]byte, unix.SizeofIfInfomsg)
	ifi := (*unix.IfInfomsg)(unsafe.Pointer(&body[0]))
	*ifi = unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index)}
	var out Interface
	found := false
	err := nl.request(unix.RTM_GETLINK, 0, body, nil, func(m syscall.NetlinkMessage) error {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			return nil
		}
		info := (*unix.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		found = true
		out = linkFrom(int(info.Index), info.Type, info.Flags)
		attrs, err := parseAttrs(&m)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				out.Name = string(trimNUL(a.Value))
			case unix.IFLA_MTU:
				if len(a.Value) >= 4 {
					out.MTU = int(binary.NativeEndian.Uint32(a.Value))
				}
			case unix.IFLA_ADDRESS:
				out.MAC = net.HardwareAddr(append([]byte(nil), a.Value...))
			}
		}
		return nil
	})
	if err != nil {
		return Interface{}, fmt.Errorf("raw: interface %d: %w", index, err)
	}
	if !found {
		return Interface{}, fmt.Errorf("raw: interface %d: %w", index, unix.ENODEV)
	}
	if out.Loopback && len(out.MAC) == 0 {
		out.MAC = make(net.HardwareAddr, 6)
	}
	return out, nil
}

func linkFrom(index int, typ uint16, flags uint32) Interface {
	ifi := Interface{Index: index, Type: typ, Up: flags&unix.IFF_UP != 0}
	switch typ {
	case unix.ARPHRD_ETHER:
		ifi.Link = LinkEthernet
	case unix.ARPHRD_LOOPBACK:
		ifi.Link, ifi.Loopback = LinkEthernet, true
	}
	ifi.NoARP = ifi.Loopback || flags&(unix.IFF_NOARP|unix.IFF_POINTOPOINT) != 0
	return ifi
}

func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// Neighbors lists the kernel's neighbour table (ARP for IPv4, NDP for
// IPv6) of the interface of that index, in both families.
func (nl *Netlink) Neighbors(index int) ([]Neighbor, error) {
	var out []Neighbor
	body := make([]byte, unix.SizeofNdMsg)
	nd := (*unix.NdMsg)(unsafe.Pointer(&body[0]))
	*nd = unix.NdMsg{Family: unix.AF_UNSPEC, Ifindex: int32(index)}
	err := nl.request(unix.RTM_GETNEIGH, unix.NLM_F_DUMP, body, nil, func(m syscall.NetlinkMessage) error {
		if m.Header.Type != unix.RTM_NEWNEIGH || len(m.Data) < unix.SizeofNdMsg {
			return nil
		}
		nd := (*unix.NdMsg)(unsafe.Pointer(&m.Data[0]))
		if index != 0 && int(nd.Ifindex) != index {
			return nil // older kernels dump every interface
		}
		n := Neighbor{State: nd.State, Ifindex: int(nd.Ifindex)}
		attrs, err := parseAttrs(&m)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.NDA_DST:
				n.Addr = addrFrom(a.Value)
			case unix.NDA_LLADDR:
				n.MAC = net.HardwareAddr(append([]byte(nil), a.Value...))
			}
		}
		if n.Addr.IsValid() {
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("raw: neighbours of interface %d: %w", index, err)
	}
	return out, nil
}
