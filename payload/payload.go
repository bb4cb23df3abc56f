package payload

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
)

// Probe is what to send to one UDP port, and how to recognise its answer.
type Probe struct {
	// Name names the probe, such as "dns-version-bind" or "snmp-v2c-get".
	Name string
	// RFC names the document and section that defines the request.
	RFC string
	// Payload is the datagram to send. It may be empty (an empty datagram
	// is the request, as for the time service). Callers must not modify it:
	// some matchers compare replies against it.
	Payload []byte
	// SourcePort, when not 0, is the port the request should leave from
	// because servers answer it only there (strongSwan ignores IKE requests
	// from other ports) or send their reply there whatever the request's
	// port (DHCP servers answer on the client port). An engine that cannot
	// bind it (it is privileged) sends from any port and learns less.
	SourcePort uint16
	// Match reports whether reply, a datagram that came back from the
	// probed address and port, answers this probe, with a reason such as
	// "dns-response id match" (or, when it does not, why not). It never
	// panics, never allocates and is safe for concurrent use.
	Match func(reply []byte) (ok bool, reason string)
}

// Reasons that Match returns for replies that carry no id to check.
const (
	// ReasonUDPResponse is the reason for a reply to a probe whose
	// protocol has nothing to check beyond the reply's existence.
	ReasonUDPResponse = "udp-response"
)

// builder makes the probes of one protocol from a stream of random bits.
type builder func(r *stream) Probe

// table maps a port to the builders of its probes, in sending order.
var table = map[uint16][]builder{
	7:    {echoProbe},
	11:   {systatProbe},
	13:   {daytimeProbe},
	17:   {qotdProbe},
	19:   {chargenProbe},
	37:   {timeProbe},
	53:   {dnsProbe},
	67:   {dhcpProbe},
	69:   {tftpProbe},
	88:   {kerberosProbe},
	111:  {portmapProbe},
	123:  {ntpProbe},
	137:  {nbnsProbe},
	161:  {snmpV1Probe, snmpV2cProbe, snmpV3Probe},
	177:  {xdmcpProbe},
	389:  {cldapProbe},
	427:  {slpProbe},
	500:  {ikev2Probe, ikev1Probe},
	514:  {syslogProbe},
	520:  {ripProbe},
	521:  {ripngProbe},
	547:  {dhcpv6Probe},
	1645: {radiusProbe},
	1701: {l2tpProbe},
	1812: {radiusProbe},
	2049: {nfsProbe},
	3130: {icpProbe},
}

// For returns the probes to send to a UDP port, in order; an empty result
// means the port has no payload and gets an empty datagram, to which any
// reply counts as "udp-response".
//
// The seed fills every field a reply must echo (DNS id, RPC xid, NTP
// transmit timestamp, SNMP request-id, ISAKMP cookie...), so Match can tell
// an answer to this probe from a stray datagram. For is deterministic:
// the same port and seed give the same bytes. Use the same seed when
// retransmitting, so that a late answer to the first try still matches,
// and a different seed per target, so that one host's answers cannot pass
// for another's.
func For(port uint16, seed uint64) []Probe {
	bs := table[port]
	if len(bs) == 0 {
		return nil
	}
	probes := make([]Probe, len(bs))
	for i, b := range bs {
		r := newStream(seed, port, i)
		probes[i] = b(r)
	}
	return probes
}

// Ports returns the ports that have payloads, in increasing order.
func Ports() []uint16 {
	ps := make([]uint16, 0, len(table))
	for p := range table {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// stream is a splitmix64 generator: cheap, deterministic, and good enough
// to make ids that a stray or spoofed datagram is unlikely to guess. It is
// not a cryptographic generator; the ids are there to pair replies with
// requests, as nmap does.
type stream struct{ s uint64 }

// newStream derives a stream for the i-th probe of a port, so that every
// probe of every port draws independent ids from one seed.
func newStream(seed uint64, port uint16, i int) *stream {
	h := fnv.New64a()
	var b [8 + 2 + 1]byte
	binary.BigEndian.PutUint64(b[:], seed)
	binary.BigEndian.PutUint16(b[8:], port)
	b[10] = byte(i)
	h.Write(b[:])
	return &stream{s: h.Sum64()}
}

func (r *stream) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// u16 returns a non-zero 16-bit value: some protocols treat 0 as "none".
func (r *stream) u16() uint16 {
	for {
		if v := uint16(r.next()); v != 0 {
			return v
		}
	}
}

// u32 returns a non-zero 32-bit value.
func (r *stream) u32() uint32 {
	for {
		if v := uint32(r.next()); v != 0 {
			return v
		}
	}
}

// pos31 returns a value in 1..2^31-1, for ASN.1 INTEGER ids that some
// agents mishandle when negative or wider than 32 bits.
func (r *stream) pos31() int64 {
	for {
		if v := int64(r.next() & 0x7fffffff); v != 0 {
			return v
		}
	}
}

// fill fills b with random bytes.
func (r *stream) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.BigEndian.PutUint64(w[:], r.next())
		copy(b[i:], w[:])
	}
}

// mac returns a random locally administered unicast hardware address.
func (r *stream) mac() [6]byte {
	var m [6]byte
	r.fill(m[:])
	m[0] = m[0]&^0x01 | 0x02
	return m
}

// Helpers for reading replies; each returns 0 when b is too short, so that
// callers check lengths once and index freely after.

func be16(b []byte, off int) uint16 {
	if off < 0 || len(b) < off+2 {
		return 0
	}
	return binary.BigEndian.Uint16(b[off:])
}

func be32(b []byte, off int) uint32 {
	if off < 0 || len(b) < off+4 {
		return 0
	}
	return binary.BigEndian.Uint32(b[off:])
}
