package capture

// Analyze reads in one goroutine and decodes and analyses in another,
// handing packets over in batches, so that two cores share the work
// (reading costs about what the rest does); the batches are recycled, so
// that the hand-over allocates nothing, and large, so that the two
// goroutines seldom wait for each other.
const (
	batchPackets = 4096
	batchBytes   = 512 << 10
	batchesOut   = 4 // batches in flight between the two goroutines
)

// batch is a run of packets read, their bytes copied into buf, since a
// Reader's packet data lasts only until its next packet.
// err ends a source: io.EOF, or why it could not be read on.
type batch struct {
	pkts []Packet
	buf  []byte
	err  error
}

// pipe is the reading side of one source: a goroutine that fills
// batches from free and sends them on full until the source ends or
// stop is closed.
type pipe struct {
	free, full chan *batch
	stop       chan struct{}
	done       chan struct{}
}

func newPipe() *pipe {
	p := &pipe{free: make(chan *batch, batchesOut), full: make(chan *batch, batchesOut)}
	for range batchesOut {
		p.free <- &batch{pkts: make([]Packet, 0, batchPackets), buf: make([]byte, 0, batchBytes)}
	}
	return p
}

// start reads r in a goroutine of its own.
func (p *pipe) start(r *Reader) {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			var b *batch
			select {
			case b = <-p.free:
			case <-p.stop:
				return
			}
			fill(r, b)
			select {
			case p.full <- b:
			case <-p.stop:
				p.free <- b
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
}

// halt stops the reading goroutine, waits for it, and takes back every
// batch for the next source: each is in free or full, where the reader
// and the caller put back those they held.
func (p *pipe) halt() {
	close(p.stop)
	<-p.done
	for len(p.free) < batchesOut {
		p.free <- <-p.full
	}
}

// fill reads packets into b until it holds batchPackets or
// batchBytes, or the source ends. A packet that does not fit moves buf:
// the packets before it keep the bytes they point to.
func fill(r *Reader, b *batch) {
	b.pkts, b.buf, b.err = b.pkts[:0], b.buf[:0], nil
	for len(b.pkts) < batchPackets && len(b.buf) < batchBytes {
		p, err := r.Next()
		if err != nil {
			b.err = err
			return
		}
		pkt := *p
		start := len(b.buf)
		b.buf = append(b.buf, p.Data...)
		pkt.Data = b.buf[start:len(b.buf):len(b.buf)]
		b.pkts = append(b.pkts, pkt)
	}
}
