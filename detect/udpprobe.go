package detect

import (
	"context"
	"math/rand/v2"
	"net"
	"time"

	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/result"
)

// udpTries is how often the payloads are sent to a UDP port that does
// not answer detection.
const udpTries = 2

// detectUDP names the service on a UDP port that answered the scan.
// The scanner keeps only the verdict of the reply, not its bytes, so
// the port is sent its payloads again (with ids of its own) and [UDP]
// reads the answer: the same matchers name it as in a capture. A port
// silent now (its answers rate limited) is named from the scan's
// reason, when the port's payloads all speak one protocol.
func (c *Config) detectUDP(ctx context.Context, p result.Port) result.Service {
	sent := payload.For(p.Port.Number, rand.Uint64())
	conn, err := c.dial(ctx, "udp", addrOf(p))
	if err != nil {
		return fromReason(p)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer conn.Close()
	wait := c.answerWait(p.RTT)
	var first []byte
	buf := make([]byte, 64<<10)
	for try := 0; try < udpTries && ctx.Err() == nil; try++ {
		if !sendUDP(conn, sent) {
			break
		}
		deadline := time.Now().Add(wait)
		if end, ok := ctx.Deadline(); ok && end.Before(deadline) {
			deadline = end
		}
		conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if first == nil {
				first = append([]byte{}, buf[:min(n, maxBanner)]...)
			}
			if svc, ok := UDP(p.Port.Number, sent, buf[:n]); ok {
				svc.Banner = banner(buf[:n])
				return svc
			}
		}
	}
	svc := fromReason(p)
	svc.Banner = banner(first)
	return svc
}

// sendUDP sends the payloads, or an empty datagram for a port without.
func sendUDP(conn net.Conn, sent []payload.Probe) bool {
	if len(sent) == 0 {
		_, err := conn.Write(nil)
		return err == nil
	}
	ok := false
	for _, pr := range sent {
		if _, err := conn.Write(pr.Payload); err == nil {
			ok = true
		}
	}
	return ok
}

// fromReason names the service of a UDP port from the scan's reason
// alone: a reply that a payload matched, on a port whose payloads all
// speak one protocol. The name is as sure as a table's.
func fromReason(p result.Port) result.Service {
	if p.Reason == "" || p.Reason == result.ReasonUDPResponse || p.Reason == result.ReasonNoResponse {
		return result.Service{}
	}
	name := ""
	for _, pr := range payload.For(p.Port.Number, 0) {
		n := udpServices[pr.Name]
		if n == "" || name != "" && n != name {
			return result.Service{}
		}
		name = n
	}
	if name == "" {
		return result.Service{}
	}
	return result.Service{Name: name, Confidence: 3}
}
