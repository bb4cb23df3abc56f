package raw

import (
	"golang.org/x/net/bpf"

	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrNoNeighbor is matched by the error of ResolveMAC when the next hop
// answered none of the requests: nobody holds the address on the link.
var ErrNoNeighbor = errors.New("no answer to neighbour resolution")

// ResolveMAC returns the link address of hop, an address on the link of
// ifi: a zero address on interfaces without neighbour resolution
// (loopback), else the kernel's neighbour table's entry, else the answer
// to an ARP request (IPv4) or neighbour solicitation (IPv6) sent from
// src, asked up to tries times, wait apart. It needs CAP_NET_RAW unless
// the kernel knows the answer.
func ResolveMAC(ctx context.Context, nl *Netlink, ifi Interface, src, hop netip.Addr, tries int, wait time.Duration) (net.HardwareAddr, error) {
	hop = hop.Unmap()
	if ifi.NoARP {
		return make(net.HardwareAddr, 6), nil
	}
	neigh, err := nl.Neighbors(ifi.Index)
	if err != nil {
		return nil, err
	}
	for _, n := range neigh {
		if n.Addr == hop && n.Usable() {
			return n.MAC, nil
		}
	}
	c, err := Open(ifi)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetFilter(mustProgram(Filter{Neighbors: true})); err != nil {
		return nil, err
	}
	b := NewBuilder()
	var frame []byte
	if hop.Is4() {
		frame, err = b.ARPRequest(ifi.MAC, src, hop)
	} else {
		frame, err = b.NeighborSolicitation(ifi.MAC, src, hop)
	}
	if err != nil {
		return nil, err
	}
	d := NewDecoder()
	bufs, n := [][]byte{make([]byte, 2048)}, []int{0}
	for try := 0; try < max(tries, 1); try++ {
		if _, err := c.WriteBatch([][]byte{frame}); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(wait)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			k, err := c.ReadBatch(bufs, n, min(left, 100*time.Millisecond))
			if err != nil {
				return nil, err
			}
			for i := range k {
				p, err := d.Decode(bufs[i][:n[i]])
				if err == nil && p.Kind == KindNeighbor && p.Neighbor.Addr == hop {
					return p.Neighbor.MAC, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("raw: %s on %s: %w (%d requests)", hop, ifi.Name, ErrNoNeighbor, max(tries, 1))
}

// mustProgram assembles a filter that is known to assemble.
func mustProgram(f Filter) []bpf.Instruction {
	p, err := f.Program()
	if err != nil {
		panic(err)
	}
	return p
}
