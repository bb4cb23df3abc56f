package scanner

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// verdict is what one probe concluded.
type verdict struct {
	state result.State
	// ttl is the IP TTL (hop limit) of the reply that gave the verdict,
	// for the raw probers, which see it; 0 when unknown.
	ttl    uint8
	reason string
	// from is the sender of the ICMP error that gave the verdict when it
	// was not the target (result.Port.ReasonIP); zero otherwise.
	from netip.Addr
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
	// cause is the system's error behind an again.
	cause error
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
	return verdict{state: result.Filtered, reason: result.ReasonError}
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
		return verdict{again: true, cause: errno}
	}
	return verdict{state: result.Filtered, reason: result.ReasonError}
}

// icmpVerdict reads an ICMP error that answered a probe of proto, as
// result.ICMP classifies it; from is who sent it, kept unless it was the
// target itself.
func icmpVerdict(m result.ICMP, from netip.Addr, proto ports.Protocol) verdict {
	state, reason := m.Classify(proto)
	return verdict{state: state, reason: reason, answered: true, from: router(m, from)}
}

// router is from, the sender of the ICMP error m, unless the target sent
// it: the address nmap gives as reason_ip.
func router(m result.ICMP, from netip.Addr) netip.Addr {
	if m.FromTarget {
		return netip.Addr{}
	}
	return from.Unmap()
}
