// Package shard splits one scan across runs: each run (a shard) probes
// one share of the scan's elements, so that N machines, pods or CI jobs
// together make the scan one would make.
//
// The elements of a scan are its probes of the host x port x protocol
// space, numbered e = (host-1)*P + port: host is the target's place in
// the scan's targets, from 1, in the order the target set yields them,
// and port the index of the port in the engine's port list, of P (1
// when only hosts are discovered). A [Plan] puts them through a keyed
// bijection pi of [0, T), T the number of elements, and shard K of N
// owns the elements e with pi(e) mod N = K. So the shares are disjoint,
// together complete, and differ in size by at most one element, however
// the targets and ports were written; and since pi mixes, each share is
// spread over every host and port, not a block of them.
//
// pi is a Feistel network over the smallest even power of two at least
// T, with cycle walking to stay inside [0, T); its round keys come from
// the scan's seed, so every shard of a scan given the same seed uses
// the same permutation.
package shard

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/portscan/portscan/result"
)

// ErrShard is wrapped by the errors of Parse, ParseCount, ParseIndex
// and Of, for a shard that cannot be read or does not exist.
var ErrShard = errors.New("invalid shard")

// ErrTooMany is wrapped by the error of New when the scan has more
// elements than a Plan numbers (2^62).
var ErrTooMany = errors.New("too many probes to shard")

// MaxCount is the largest number of shards.
const MaxCount = 1 << 20

// maxElements bounds T: the Feistel domain is then at most 2^62.
const maxElements = 1 << 62

// Parse reads a shard as --shard takes it and masscan writes it: "I/N",
// I counting from 1 to N ("2/4" is the second of four). The result's
// Index counts from 0.
func Parse(text string) (result.Shard, error) {
	i, n, ok := strings.Cut(text, "/")
	if !ok || !digits(i) || !digits(n) {
		return result.Shard{}, fmt.Errorf("%w %q: want I/N, such as 2/4 (I from 1 to N)", ErrShard, text)
	}
	count, err := number(n, "count", text)
	if err != nil {
		return result.Shard{}, err
	}
	index, err := number(i, "index", text)
	if err != nil {
		return result.Shard{}, err
	}
	if count < 1 {
		return result.Shard{}, fmt.Errorf("%w %s: count must be 1 or more", ErrShard, text)
	}
	if index < 1 || index > count {
		return result.Shard{}, fmt.Errorf("%w %s: index must be 1 to %d", ErrShard, text, count)
	}
	return result.Shard{Index: index - 1, Count: count}, nil
}

// ParseCount reads a number of shards, as --shards takes it: decimal
// digits only, 1 to MaxCount.
func ParseCount(text string) (int, error) {
	if !digits(text) {
		return 0, fmt.Errorf("%w count %q: want a number of shards, 1 or more", ErrShard, text)
	}
	n, err := number(text, "count", text)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("%w count %s: want 1 or more", ErrShard, text)
	}
	return n, nil
}

// ParseIndex reads a shard's index counting from 0, as --shard-index
// takes it: decimal digits only, so that a Kubernetes Job's
// $(JOB_COMPLETION_INDEX) goes in as it is ("08" is 8, not octal).
func ParseIndex(text string) (int, error) {
	if !digits(text) {
		return 0, fmt.Errorf("%w index %q: want a number, 0 or more", ErrShard, text)
	}
	return number(text, "index", text)
}

// Of returns shard index (from 0) of count, checked.
func Of(count, index int) (result.Shard, error) {
	switch {
	case count < 1 || count > MaxCount:
		return result.Shard{}, fmt.Errorf("%w: %d shards: want 1 to %d", ErrShard, count, MaxCount)
	case index < 0 || index >= count:
		return result.Shard{}, fmt.Errorf("%w index %d: with %d shards it must be 0 to %d", ErrShard, index, count, count-1)
	}
	return result.Shard{Index: index, Count: count}, nil
}

// digits reports whether s is one or more ASCII decimal digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// number reads decimal digits, at most MaxCount.
func number(s, what, text string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > MaxCount {
		return 0, fmt.Errorf("%w %s: %s %s is more than %d", ErrShard, text, what, s, MaxCount)
	}
	return int(n), nil
}

// rounds is the number of Feistel rounds: four make a keyed
// pseudo-random permutation of the halves' round function (Luby and
// Rackoff); more would only cost time.
const rounds = 4

// Plan says which elements of a scan one shard owns. Its methods are
// pure functions of the seed, the shard and the scan's size, so every
// run of one scan computes the same plan.
type Plan struct {
	shard      result.Shard
	n, k       uint64 // shards, and this one's index
	hosts, per uint64
	total      uint64 // elements: hosts * per
	half       uint   // bits of each Feistel half
	mask       uint64 // of a half
	keys       [rounds]uint64
}

// New returns the plan of shard s of a scan of hosts targets with
// perHost elements each (its ports, or 1 when only hosts are
// discovered), permuted under seed. The zero Shard, or one of 1, owns
// everything. It fails when the shard does not exist, when perHost is
// below 1, or when the scan has more than 2^62 elements (ErrTooMany).
func New(seed uint64, s result.Shard, hosts uint64, perHost int) (*Plan, error) {
	if s.Count == 0 && s.Index == 0 {
		s.Count = 1
	}
	if _, err := Of(s.Count, s.Index); err != nil {
		return nil, err
	}
	if perHost < 1 {
		return nil, fmt.Errorf("shard: %d elements a host: want 1 or more", perHost)
	}
	per := uint64(perHost)
	if hosts == math.MaxUint64 { // a count saturated: 2^64 or more
		return nil, fmt.Errorf("%w: 2^64 hosts or more", ErrTooMany)
	}
	if hosts > maxElements/per {
		return nil, fmt.Errorf("%w: %d hosts × %d ports is more than 2^62 probes", ErrTooMany, hosts, per)
	}
	p := &Plan{shard: s, n: uint64(s.Count), k: uint64(s.Index), hosts: hosts, per: per, total: hosts * per}
	// The smallest even power of two at least total, and at least 4.
	width := uint(2)
	if p.total > 4 {
		width = uint(bits.Len64(p.total - 1))
		width += width & 1
	}
	p.half = width / 2
	p.mask = 1<<p.half - 1
	x := seed
	for i := range p.keys {
		x = splitmix(x + uint64(i))
		p.keys[i] = x
	}
	return p, nil
}

// Shard returns the shard the plan is of.
func (p *Plan) Shard() result.Shard { return p.shard }

// Total is the number of elements of the scan, in every shard.
func (p *Plan) Total() uint64 { return p.total }

// Len is the number of elements the shard owns: T/N, one more for the
// first T mod N shards.
func (p *Plan) Len() uint64 {
	n := p.total / p.n
	if p.k < p.total%p.n {
		n++
	}
	return n
}

// Owns reports whether the shard owns port (an index into the port
// list, from 0) of host (its place in the targets, from 1). An element
// outside the scan is owned by no shard.
func (p *Plan) Owns(host uint64, port int) bool {
	if host < 1 || host > p.hosts || port < 0 || uint64(port) >= p.per {
		return false
	}
	if p.n == 1 {
		return true
	}
	return p.permute((host-1)*p.per+uint64(port))%p.n == p.k
}

// Any reports whether the shard owns some element of host. It tests
// the host's elements in port order until one is owned, so it costs
// about N tests when the host has more than N elements, and at most P.
func (p *Plan) Any(host uint64) bool {
	for i := range p.per {
		if p.Owns(host, int(i)) {
			return true
		}
	}
	return false
}

// Count returns how many elements of host the shard owns. It tests
// every one: P tests.
func (p *Plan) Count(host uint64) int {
	if p.n == 1 {
		if host >= 1 && host <= p.hosts {
			return int(p.per)
		}
		return 0
	}
	n := 0
	for i := range p.per {
		if p.Owns(host, int(i)) {
			n++
		}
	}
	return n
}

// permute is pi: a bijection of [0, total), for e below total.
func (p *Plan) permute(e uint64) uint64 {
	// Cycle walking: the Feistel network permutes [0, 4^half); walking
	// from e along its cycle until it comes back into [0, total) maps
	// [0, total) onto itself, one to one. The domain is less than four
	// times total, so the walk is short.
	x := p.feistel(e)
	for x >= p.total {
		x = p.feistel(x)
	}
	return x
}

// feistel permutes [0, 4^half): each round swaps the halves and mixes
// one into the other under its key, which any keys undo in reverse.
func (p *Plan) feistel(x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for i := range rounds {
		l, r = r, l^p.round(r, p.keys[i])
	}
	return l<<p.half | r
}

// round is the round function: r and the key mixed by a multiply and
// a shift, its top half bits taken (multiplicative hashing: the high
// bits of a product depend on every bit of the factors).
func (p *Plan) round(r, k uint64) uint64 {
	x := (r ^ k) * 0x9e3779b97f4a7c15
	x ^= x >> 32
	return (x * 0xbf58476d1ce4e5b9) >> (64 - p.half)
}

// splitmix is SplitMix64's finalizer: a cheap, well-mixing function of
// 64 bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
