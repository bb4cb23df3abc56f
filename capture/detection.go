package capture

import (
	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// feedTCP keeps the payload of a segment from side of f, if it extends
// the first bytes of that direction, and runs detection on them when the
// server is known. It does nothing once detection has decided.
func (a *Analyzer) feedTCP(f *flow, side int, d *Decoded) {
	fd := f.data
	if fd == nil {
		if fd = a.pool.getData(); fd == nil {
			return
		}
		f.data = fd
	}
	if fd.decided {
		return
	}
	st := &fd.dir[side]
	if st.closed {
		return
	}
	if st.limit == 0 {
		st.buf = a.pool.getBuf()
		st.limit = a.pool.limit(fd, side, d.Payload[0])
		if f.saw(sawSYN|sawSYNACK, side) {
			st.next, st.start = f.isn[side]+1, true
		}
	}
	seq := d.Seq
	if d.Flags&SYN != 0 {
		seq++ // a SYN's data starts after the SYN
	}
	if !st.take(seq, d.PayloadLen, d.Payload) {
		return
	}
	if st.at == 0 {
		st.at = a.counters.Packets
	}
	a.tryDetect(f)
}

// tryDetect runs detection on a flow whose server the handshake told,
// once the server has sent something, and keeps what it finds when more
// bytes could not tell more; the flow's buffers then go back to the pool.
func (a *Analyzer) tryDetect(f *flow) {
	fd := f.data
	s, guessed := a.serverSide(f)
	if s < 0 || guessed || fd.tries >= maxTries || len(fd.dir[s].buf) == 0 {
		return
	}
	fd.tries++
	svc, ok, more := identify(f.view(s, false))
	if more {
		return
	}
	fd.det, fd.detSide, fd.decided = detected(svc, ok, fd.dir[s].buf), int8(s), true
	a.pool.release(fd)
}

// view is what detection reads of f with side s as the server.
func (f *flow) view(s int, final bool) view {
	srv, cli := &f.data.dir[s], &f.data.dir[1-s]
	handshake := f.saw(sawSYN|sawSYNACK, 0) || f.saw(sawSYN|sawSYNACK, 1)
	return view{
		port:     f.key.port[s],
		cli:      cli.buf,
		srv:      srv.buf,
		srvFirst: srv.at != 0 && (cli.at == 0 || srv.at < cli.at) || !handshake,
		final:    final || srv.closed,
	}
}

// feedUDP runs detection on a datagram from the server side of f, on the
// first few until one names the service. Only a named service counts:
// without the request, detect.UDP checks the replies of a few protocols
// only, so a reply it cannot read may still be the port's.
func (a *Analyzer) feedUDP(f *flow, side int, payload []byte) {
	if s, _ := a.serverSide(f); s != side {
		return
	}
	fd := f.data
	if fd == nil {
		if fd = a.pool.getData(); fd == nil {
			return
		}
		f.data = fd
	}
	if fd.decided || fd.tries >= maxTries {
		return
	}
	fd.tries++
	if svc, ok := detect.UDP(f.key.port[side], nil, payload); ok {
		fd.det, fd.detSide, fd.decided = detected(svc, true, payload), int8(side), true
	}
}

// decide runs detection on a finished TCP flow that has not decided
// yet, with side s as the server, and returns the server side: s, or the
// other side when the ports could not tell (mayFlip) and only the other
// side's bytes name a service.
func (a *Analyzer) decide(f *flow, s int, mayFlip bool) int {
	fd := f.data
	if fd == nil || fd.decided || ports.Protocol(f.key.proto) != ports.TCP {
		return s
	}
	det := f.final(s)
	if mayFlip && (det == nil || det.Name == "") {
		if other := f.final(1 - s); other != nil && other.Name != "" {
			s, det = 1-s, other
		}
	}
	fd.det, fd.detSide = det, int8(s)
	return s
}

// final is the detection of a finished flow with side s as the server;
// nil when there is nothing to read: the server sent nothing and the
// client's bytes name no protocol.
func (f *flow) final(s int) *result.Service {
	v := f.view(s, true)
	svc, ok, _ := identify(v)
	if !ok && len(v.srv) == 0 {
		return nil
	}
	return detected(svc, ok, v.srv)
}

// dropData returns f's buffers to the pool, and its detection if it is
// about server side s.
func (a *Analyzer) dropData(f *flow, s int) *result.Service {
	fd := f.data
	if fd == nil {
		return nil
	}
	f.data = nil
	det, side := fd.det, int(fd.detSide)
	a.pool.free(fd)
	if side != s {
		return nil
	}
	return det
}
