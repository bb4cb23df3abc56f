package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/portscan/portscan/result"
)

// addr16 is an address as two words, IPv4 mapped into IPv6, so that keys
// are plain memory: fast to hash and compare.
type addr16 struct{ hi, lo uint64 }

func toAddr16(a netip.Addr) addr16 {
	b := a.As16()
	return addr16{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// addr returns the address; IPv4-mapped IPv6 addresses come back as IPv4.
func (a addr16) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return netip.AddrFrom16(b).Unmap()
}

func (a addr16) less(b addr16) bool {
	return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo
}

// flowKey names a conversation with its endpoints in a fixed order: side
// 0 is the lower (address, port), side 1 the higher.
type flowKey struct {
	addr  [2]addr16
	port  [2]uint16
	proto uint8
	pad   [3]byte // always zero: no padding, so the key hashes as plain memory
}

// newFlowKey orders the endpoints and tells which side src is.
func newFlowKey(src, dst netip.Addr, sport, dport uint16, proto uint8) (k flowKey, srcSide int) {
	s, d := toAddr16(src), toAddr16(dst)
	k.proto = proto
	if d.less(s) || s == d && dport < sport {
		k.addr = [2]addr16{d, s}
		k.port = [2]uint16{dport, sport}
		return k, 1
	}
	k.addr = [2]addr16{s, d}
	k.port = [2]uint16{sport, dport}
	return k, 0
}

// What a flow has seen from each side: bit<<side.
const (
	sawSYN    = 1 << (2 * iota) // SYN without ACK
	sawSYNACK                   // SYN with ACK
	sawRST                      // RST
	sawOther                    // any other TCP segment, or a UDP datagram
	sawFIN                      // FIN
)

// flow is the state of one TCP connection or UDP conversation. Flows live
// in one slice, linked in least recently used order for eviction.
type flow struct {
	key        flowKey
	first      int64    // time of its first packet, Unix ns
	last       int64    // time of its last packet
	firstFrom  [2]int64 // first TCP or UDP packet from each side; 0 if none
	icmpTime   int64
	pkts       [2]uint64 // packets from each side (ICMP errors count for the side they speak for)
	bytes      [2]uint64 // IP bytes from each side
	prev, next int32
	synSeq     uint32
	isn        [2]uint32 // each side's SYN or SYN-ACK sequence number, where seen
	data       *flowData // the first bytes, for detection; nil when none came
	bits       uint16
	firstSide  int8        // the side that sent the first packet
	icmpSide   int8        // the side an ICMP error said was unreachable; -1 if none
	replySide  int8        // UDP: the side whose first datagram answered a request to a group address; -1 if none
	reqTime    int64       // when that request was sent
	icmp       result.ICMP // that error; FromTarget when that side itself sent it
}

func (f *flow) saw(bit uint16, side int) bool { return f.bits&(bit<<side) != 0 }

// reqKey names the UDP requests sent to a broadcast or multicast address
// from one address (or, with group set, from any address of its family)
// and port to one port: an answer comes from the port they went to and
// goes to the port they came from.
type reqKey struct {
	addr  addr16
	port  [2]uint16 // the port the request went to, and the one it came from
	group bool
	pad   [3]byte // always zero: the key hashes as plain memory
}

// anyAddr is the unspecified address of a's family, as 0.0.0.0 is the
// source of a DHCP client that has no address yet.
func anyAddr(a netip.Addr) addr16 {
	if a.Unmap().Is4() {
		return toAddr16(netip.IPv4Unspecified())
	}
	return toAddr16(netip.IPv6Unspecified())
}

// table is the flow table: a map from key to slot, and the slots in
// least recently used order, bounded by max.
type table struct {
	index      map[flowKey]int32
	flows      []flow
	head, tail int32 // least and most recently used; -1 when empty
	free       int32 // free slots, chained through next
	max        int
}

func newTable(max int) *table {
	return &table{index: make(map[flowKey]int32), head: -1, tail: -1, free: -1, max: max}
}

func (t *table) len() int { return len(t.index) }

func (t *table) lookup(k flowKey) (int32, bool) {
	i, ok := t.index[k]
	return i, ok
}

// insert takes a slot for k and puts it last in use order. The caller
// has made room.
func (t *table) insert(k flowKey) int32 {
	var i int32
	if t.free >= 0 {
		i = t.free
		t.free = t.flows[i].next
	} else {
		t.flows = append(t.flows, flow{})
		i = int32(len(t.flows) - 1)
	}
	t.flows[i] = flow{key: k, icmpSide: -1, replySide: -1, prev: -1, next: -1}
	t.index[k] = i
	t.pushBack(i)
	return i
}

// remove frees slot i.
func (t *table) remove(i int32) {
	t.unlink(i)
	delete(t.index, t.flows[i].key)
	t.flows[i] = flow{next: t.free}
	t.free = i
}

// touch marks slot i most recently used.
func (t *table) touch(i int32) {
	if t.tail == i {
		return
	}
	t.unlink(i)
	t.pushBack(i)
}

func (t *table) unlink(i int32) {
	f := &t.flows[i]
	if f.prev >= 0 {
		t.flows[f.prev].next = f.next
	} else {
		t.head = f.next
	}
	if f.next >= 0 {
		t.flows[f.next].prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = -1, -1
}

func (t *table) pushBack(i int32) {
	f := &t.flows[i]
	f.prev, f.next = t.tail, -1
	if t.tail >= 0 {
		t.flows[t.tail].next = i
	} else {
		t.head = i
	}
	t.tail = i
}
