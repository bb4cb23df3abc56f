package scanner

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/portscan/portscan/result"
)

// verdict is what one probe concluded.
type verdict struct {
	state  result.State
	reason string
	// answered says the host itself (or a router for it) replied; a
	// timeout is not an answer.
	answered bool
	// again means the probe was never really sent: the local system ran
	// out of something (file descriptors, ephemeral ports, buffers). The
	// engine backs off and sends it later.
	again bool
	// self marks an again that is no sign of exhaustion (a socket that
	// connected to itself): no back-off.
	self bool
	// limited marks a silent UDP probe whose canary was silent too: ICMP
	// answers are being rate limited.
	limited bool
}

// classify turns the error of a connect attempt into a port state. It is
// the one place where network errors are read, always by errors.Is/As on
// errno values, never by message text.
func classify(err error) verdict {
	if err == nil {
		return verdict{state: result.Open, reason: result.ReasonSynAck, answered: true}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return classifyErrno(errno)
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return verdict{state: result.Filtered, reason: result.ReasonNoResponse}
	}
	return verdict{state: result.Filtered, reason: "error"}
}

func classifyErrno(errno syscall.Errno) verdict {
	switch errno {
	case 0:
		return verdict{state: result.Open, reason: result.ReasonSynAck, answered: true}
	case syscall.ECONNREFUSED:
		return verdict{state: result.Closed, reason: result.ReasonConnRefused, answered: true}
	case syscall.ECONNRESET:
		return verdict{state: result.Closed, reason: result.ReasonReset, answered: true}
	case syscall.ETIMEDOUT:
		return verdict{state: result.Filtered, reason: result.ReasonNoResponse}
	case syscall.EHOSTUNREACH, syscall.EHOSTDOWN:
		return verdict{state: result.Filtered, reason: result.ReasonHostUnreach}
	case syscall.ENETUNREACH, syscall.ENETDOWN:
		return verdict{state: result.Filtered, reason: result.ReasonNetUnreach}
	case syscall.EACCES, syscall.EPERM:
		// A local firewall rule refused to send the probe.
		return verdict{state: result.Filtered, reason: result.ReasonAdminProhibited}
	case syscall.EPROTO, syscall.ENOPROTOOPT:
		return verdict{state: result.Filtered, reason: result.ReasonProtoUnreach}
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.EADDRNOTAVAIL, syscall.EAGAIN, syscall.EADDRINUSE:
		return verdict{again: true}
	}
	return verdict{state: result.Filtered, reason: "error"}
}

// ICMP types and codes (RFC 792, RFC 1812 for codes 9, 10 and 13; RFC 4443
// for ICMPv6) that an extended socket error can carry.
const (
	icmpUnreach        = 3
	icmpTimeExceeded   = 11
	icmp6Unreach       = 1
	icmp6TimeExceeded  = 3
	icmpNetUnreach     = 0
	icmpHostUnreach    = 1
	icmpProtoUnreach   = 2
	icmpPortUnreach    = 3
	icmpNetProhibited  = 9
	icmpHostProhibited = 10
	icmpAdminFiltered  = 13
	icmp6AdminProhib   = 1
	icmp6AddrUnreach   = 3
	icmp6PortUnreach   = 4
	icmp6PolicyFail    = 5
	icmp6RejectRoute   = 6
	icmp6NoRoute       = 0
)

// classifyICMP reads an ICMP (v6 when v6) unreachable that answered a
// probe. For UDP a port unreachable means closed; for TCP, as in nmap,
// every unreachable is filtered.
func classifyICMP(v6 bool, typ, code uint8, udp bool) verdict {
	f := func(reason string) verdict { return verdict{state: result.Filtered, reason: reason, answered: true} }
	if v6 {
		switch {
		case typ == icmp6Unreach && code == icmp6PortUnreach:
			if udp {
				return verdict{state: result.Closed, reason: result.ReasonPortUnreach, answered: true}
			}
			return f(result.ReasonPortUnreach)
		case typ == icmp6Unreach && (code == icmp6AdminProhib || code == icmp6PolicyFail || code == icmp6RejectRoute):
			return f(result.ReasonAdminProhibited)
		case typ == icmp6Unreach && code == icmp6NoRoute:
			return f(result.ReasonNetUnreach)
		case typ == icmp6Unreach:
			return f(result.ReasonHostUnreach)
		case typ == icmp6TimeExceeded:
			return f("time-exceeded")
		}
		return f("error")
	}
	switch {
	case typ == icmpUnreach && code == icmpPortUnreach:
		if udp {
			return verdict{state: result.Closed, reason: result.ReasonPortUnreach, answered: true}
		}
		return f(result.ReasonPortUnreach)
	case typ == icmpUnreach && (code == icmpNetProhibited || code == icmpHostProhibited || code == icmpAdminFiltered):
		return f(result.ReasonAdminProhibited)
	case typ == icmpUnreach && code == icmpNetUnreach:
		return f(result.ReasonNetUnreach)
	case typ == icmpUnreach && code == icmpProtoUnreach:
		return f(result.ReasonProtoUnreach)
	case typ == icmpUnreach:
		return f(result.ReasonHostUnreach)
	case typ == icmpTimeExceeded:
		return f("time-exceeded")
	}
	return f("error")
}
