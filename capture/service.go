package capture

import (
	"math"
	"math/bits"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// svcKey names a service: server address, port and protocol.
type svcKey struct {
	addr  addr16
	port  uint16
	proto uint8
	pad   [5]byte // always zero: the key hashes as plain memory
}

// service gathers the evidence of every finished flow to one server port.
type service struct {
	key         svcKey
	best        verdict
	flows       int
	pktsIn      uint64 // to the server
	pktsOut     uint64 // from the server
	bytesIn     uint64
	bytesOut    uint64
	first, last int64
	clients     clientCounter
	det         *result.Service // the most confident detection
	detWhen     int64           // when the flow that gave it began
}

// add files flow f, whose server is side s, verdict v and detection det
// (nil when detection did not run).
func (svc *service) add(f *flow, s int, v verdict, det *result.Service) {
	c := 1 - s
	svc.flows++
	svc.pktsIn += f.pkts[c]
	svc.pktsOut += f.pkts[s]
	svc.bytesIn += f.bytes[c]
	svc.bytesOut += f.bytes[s]
	svc.first = min(svc.first, f.first)
	svc.last = max(svc.last, f.last)
	if serverAddr(f.key.addr[c].addr()) {
		// Not the broadcast a DHCP server answers at.
		svc.clients.add(f.key.addr[c])
	}
	if r, br := v.rank(), svc.best.rank(); r > br || r == br && v.when < svc.best.when {
		svc.best = v
	}
	if det != nil && (svc.det == nil || detRank(det) > detRank(svc.det) ||
		detRank(det) == detRank(svc.det) && f.first < svc.detWhen) {
		svc.det, svc.detWhen = det, f.first
	}
}

// detRank orders detections: a named service by its confidence, above
// bytes that named none.
func detRank(d *result.Service) int {
	if d.Name == "" {
		return -1
	}
	return d.Confidence
}

// result is the service as a result.Port.
func (svc *service) result(label services.Labeler) result.Port {
	p := ports.Port{Number: svc.key.port, Proto: ports.Protocol(svc.key.proto)}
	r := result.Port{
		Host:   svc.key.addr.addr(),
		Port:   p,
		State:  svc.best.state,
		Reason: svc.best.reason,
		RTT:    time.Duration(svc.best.rtt),
		Time:   unixTime(svc.best.when),
		Source: "pcap",
		Evidence: &result.Evidence{
			Flows:      svc.flows,
			Clients:    svc.clients.count(),
			PacketsIn:  svc.pktsIn,
			PacketsOut: svc.pktsOut,
			BytesIn:    svc.bytesIn,
			BytesOut:   svc.bytesOut,
			FirstSeen:  unixTime(svc.first),
			LastSeen:   unixTime(svc.last),
		},
	}
	if label != nil {
		r.Service = label(p)
	}
	if r.State == result.Open {
		r.Detected = svc.det
	}
	return r
}

// ExactClients is how many distinct clients of one service are counted
// exactly; above it the count is an estimate within a few percent, held
// in a fixed kilobyte whatever the number of clients.
const ExactClients = 32

// hllBits sets the estimator's size: 2^hllBits one-byte registers, for a
// standard error of 1.04/sqrt(2^hllBits), about 3%.
const hllBits = 10

// clientCounter counts distinct client addresses: exactly up to
// ExactClients, then with a HyperLogLog sketch.
type clientCounter struct {
	exact []addr16
	regs  *[1 << hllBits]uint8
}

func (c *clientCounter) add(a addr16) {
	if c.regs == nil {
		for _, x := range c.exact {
			if x == a {
				return
			}
		}
		if len(c.exact) < ExactClients {
			c.exact = append(c.exact, a)
			return
		}
		c.regs = new([1 << hllBits]uint8)
		for _, x := range c.exact {
			c.sketch(x)
		}
		c.exact = nil
	}
	c.sketch(a)
}

func (c *clientCounter) sketch(a addr16) {
	h := mix(a.hi ^ bits.RotateLeft64(a.lo, 29) ^ 0x9e3779b97f4a7c15)
	i := h >> (64 - hllBits)
	rho := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1))) + 1
	if rho > c.regs[i] {
		c.regs[i] = rho
	}
}

func (c *clientCounter) count() int {
	if c.regs == nil {
		return len(c.exact)
	}
	const m = float64(1 << hllBits)
	var sum float64
	zeros := 0
	for _, r := range c.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros))
	}
	return max(int(est+0.5), ExactClients+1)
}

// mix is a 64-bit finaliser (MurmurHash3's), fixed so that counts are the
// same from run to run.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
