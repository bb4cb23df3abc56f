package capture

import (
	"github.com/portscan/portscan/result"
)

// Bounds of what a flow keeps of its bytes for service detection. Only
// the first bytes of each direction are kept, and only until detection
// decides; the buffers then go back to the Analyzer's pool.
const (
	// StreamBytes is how many of the first payload bytes of each
	// direction of a flow are kept.
	StreamBytes = 512
	// FlightBytes is how many bytes of a TLS server's first flight are
	// kept, for its certificate, when the client's ClientHello was seen.
	FlightBytes = 16 << 10
	// maxStreams bounds the flows that hold buffers at once: the rest
	// wait, unexamined, for buffers to come back. 16384 flows of two
	// StreamBytes buffers are 16 MiB.
	maxStreams = 1 << 14
	// maxFlights bounds the TLS flights kept at once: 1024 of
	// FlightBytes are 16 MiB.
	maxFlights = 1 << 10
	// maxTries bounds how often detection runs on a flow before its end.
	maxTries = 16
)

// stream is the start of one direction of a flow, reassembled in
// sequence order from its first byte (the SYN's ISN plus one, or the
// first segment seen).
type stream struct {
	buf    []byte
	limit  int    // bytes kept at most
	next   uint32 // TCP: the sequence number of the next byte wanted
	start  bool   // next is set
	closed bool   // no more bytes are taken: full, or a gap the snap length made
	at     uint64 // the packet number of its first payload byte; 0 if none yet
}

// flowData is what detection keeps of a flow: the first bytes of each
// direction until it decides, then only what it decided.
type flowData struct {
	dir     [2]stream
	det     *result.Service // the detection, when decided or tried
	detSide int8            // the side det names the server of
	decided bool            // det is final: no more bytes are examined
	tries   uint8
	flight  bool // a side holds a TLS flight buffer
}

// pool keeps the buffers of decided flows for the next ones.
type pool struct {
	small   [][]byte
	data    []*flowData
	streams int // flowData in use
	flights int // flight buffers in use
}

func (p *pool) getData() *flowData {
	if p.streams >= maxStreams {
		return nil
	}
	p.streams++
	if n := len(p.data); n > 0 {
		d := p.data[n-1]
		p.data = p.data[:n-1]
		return d
	}
	return new(flowData)
}

func (p *pool) getBuf() []byte {
	if n := len(p.small); n > 0 {
		b := p.small[n-1]
		p.small = p.small[:n-1]
		return b
	}
	return make([]byte, 0, StreamBytes)
}

// release returns d's buffers, keeping what it decided.
func (p *pool) release(d *flowData) {
	for i := range d.dir {
		if b := d.dir[i].buf; cap(b) == StreamBytes {
			p.small = append(p.small, b[:0])
		}
		d.dir[i] = stream{closed: true, at: d.dir[i].at}
	}
	if d.flight {
		d.flight = false
		p.flights--
	}
}

// free returns d itself, once its flow is finished.
func (p *pool) free(d *flowData) {
	p.release(d)
	*d = flowData{}
	p.data = append(p.data, d)
	p.streams--
}

// limit is how many bytes side s of a flow keeps: StreamBytes, or
// FlightBytes for a TLS server whose client sent a ClientHello first
// (both start with a handshake record), as far as the pool allows.
func (p *pool) limit(d *flowData, s int, first byte) int {
	c := &d.dir[1-s]
	if first == 22 && len(c.buf) > 5 && c.buf[0] == 22 && c.buf[5] == 1 &&
		!d.flight && p.flights < maxFlights {
		d.flight = true
		p.flights++
		return FlightBytes
	}
	return StreamBytes
}

// take appends a TCP segment's payload, of seq and wire length n, to the
// stream: the part that follows what it holds. Retransmitted bytes are
// skipped, a segment beyond the next byte wanted is dropped (the stream
// waits for the one that fills the gap), and a payload the snap length
// cut closes the stream. It reports whether bytes were added.
func (st *stream) take(seq uint32, n int, payload []byte) bool {
	limit := st.limit
	if st.closed {
		return false
	}
	if !st.start {
		st.next, st.start = seq, true
	}
	off := int32(seq - st.next)
	if off > 0 || int(-off) >= len(payload) {
		return false
	}
	payload = payload[-off:]
	if limit > cap(st.buf) {
		st.buf = append(make([]byte, 0, limit), st.buf...)
	}
	room := limit - len(st.buf)
	add := min(room, len(payload))
	st.buf = append(st.buf, payload[:add]...)
	st.next += uint32(add)
	if len(st.buf) >= limit || len(payload) < n-int(-off) {
		st.closed = true
	}
	return add > 0
}
