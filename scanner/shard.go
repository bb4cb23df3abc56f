package scanner

import (
	"cmp"
	"errors"
	"slices"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/shard"
)

// scans reports whether the run scans port on h: it is in the port
// list and, in a shard, owned.
func (e *engine) scans(h *hostState, port ports.Port) bool {
	if !e.portIn(port) {
		return false
	}
	if e.shard == nil {
		return true
	}
	i, ok := e.discIdx[port]
	if !ok {
		i, _ = slices.BinarySearchFunc(e.portList, port, comparePorts)
		e.discIdx[port] = i
	}
	return e.shard.Owns(h.index, i)
}

// owns reports whether the run probes port i of the port list on h.
func (e *engine) owns(h *hostState, i int) bool {
	return e.shard == nil || e.shard.Owns(h.index, i)
}

// comparePorts orders ports as ports.Set.Ports yields them, and so
// e.portList: by protocol, then number.
func comparePorts(a, b ports.Port) int {
	return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Number, b.Number))
}

// ErrShardHosts is returned by Run when a sharded run's targets are not
// the Config.Hosts it was told of: its share would not be the one the
// other shards leave it.
var ErrShardHosts = errors.New("the targets do not match Config.Hosts")

// planShard makes the plan of a sharded run, whose elements are each
// target's ports (one element a host when only discovering).
func (e *engine) planShard() error {
	if !e.cfg.Shard.Sharded() {
		return nil
	}
	switch {
	case e.cfg.Hosts == 0:
		return errors.New("a sharded run needs Config.Hosts, the number of targets")
	case e.cfg.Seed == 0:
		return errors.New("a sharded run needs Config.Seed: every shard must use the same permutation")
	}
	per := max(1, len(e.portList))
	p, err := shard.New(e.cfg.Seed, e.cfg.Shard, e.cfg.Hosts, per)
	if err != nil {
		return err
	}
	e.shard, e.discIdx = p, map[ports.Port]int{}
	return nil
}

// exactDown is the longest port list whose owned ports a shard counts
// on each host found down, for Stats: a test a port. Past it a host
// counts its expected share, Len/Hosts, and the total is made exact as
// the run ends.
const exactDown = 4096

// downPorts is what h, found down, settles.
func (e *engine) downPorts(h *hostState) int64 {
	switch {
	case e.shard == nil:
		return int64(len(e.portList))
	case len(e.portList) <= exactDown:
		return int64(e.shard.Count(h.index))
	}
	return int64(e.shard.Len() / e.cfg.Hosts)
}

// hostPorts is how many ports h has to scan: those it owns, in a
// shard.
func (e *engine) hostPorts(h *hostState) int {
	if e.shard == nil {
		return len(e.portList)
	}
	return e.shard.Count(h.index)
}
