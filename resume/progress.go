package resume

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/services"
)

// Engine returns what the engine needs to go on from st
// (scanner.Config.Resume), for a scan of the ports of set with st's
// seed. It refuses a state whose hosts name steps or ports the scan
// does not have.
func (st *State) Engine(set *ports.Set) (*scanner.Resume, error) {
	list := scanner.PortList(set)
	index := make(map[ports.Port]int, len(list))
	for i, p := range list {
		index[p] = i
	}
	partial := make(map[uint64]*scanner.PartialHost, len(st.Progress.Hosts))
	for _, h := range st.Progress.Hosts {
		if n := len(h.Ahead); h.Walked > len(list) || n > 0 && h.Ahead[n-1] >= len(list) {
			return nil, fmt.Errorf("%w: host %d: settled steps past the scan's %d ports", ErrState, h.Index, len(list))
		}
		counts := map[result.State]int{}
		for _, x := range h.Hidden {
			counts[x.State] += x.Count
		}
		for _, p := range h.Listed {
			if _, ok := index[ports.Port{Number: p.Port, Proto: p.Protocol}]; !ok {
				return nil, fmt.Errorf("%w: host %d: port %d/%v is not in the scan", ErrState, h.Index, p.Port, p.Protocol)
			}
			counts[p.State]++
		}
		order := scanner.NewPortOrder(len(list), st.Seed, h.Addr)
		walked, ahead := h.Walked, make(map[int]bool, len(h.Ahead))
		for _, s := range h.Ahead {
			ahead[s] = true
		}
		partial[h.Index] = &scanner.PartialHost{
			Addr: h.Addr, Up: h.Up, Reason: h.Reason, TTL: h.TTL, ReasonIP: h.ReasonIP, Start: h.Start, Probes: h.Probes, Silent: h.Silent, Counts: counts,
			Settled: func(p ports.Port) bool {
				i, ok := index[p]
				if !ok {
					return false
				}
				s := order.Step(i)
				return s < walked || ahead[s]
			},
		}
	}
	prog := st.Progress
	s := st.Summary
	return &scanner.Resume{
		Done:    prog.done,
		Partial: func(i uint64) *scanner.PartialHost { return partial[i] },
		Summary: result.Summary{Start: s.Start, HostsUp: s.HostsUp, HostsDown: s.HostsDown, HostsUnknown: s.HostsUnknown,
			Open: s.Open, Probes: s.Probes},
	}, nil
}

// Settled returns what the outputs had of each host in flight, to give
// back to each continued Writer (output.Restore); label gives the
// listed ports their catalog entries again.
func (st *State) Settled(label services.Labeler) []output.Settled {
	var out []output.Settled
	for _, h := range st.Progress.Hosts {
		s := output.Settled{Addr: h.Addr, Hostname: h.Hostname, Source: h.Source}
		for _, p := range h.Listed {
			r := p.result(h)
			if label != nil {
				r.Service = label(r.Port)
			}
			s.Listed = append(s.Listed, r)
		}
		for _, x := range h.Hidden {
			s.Hidden = append(s.Hidden, output.Hidden{State: x.State, Reason: x.Reason, Count: x.Count, RTT: x.RTT, Answered: x.Answered,
				First: x.First, Last: x.Last})
		}
		out = append(out, s)
	}
	return out
}

// ErrOutput is returned, wrapped, by Reopen for an output file that is
// not as the state left it.
var ErrOutput = errors.New("output file changed since the checkpoint")

// Reopen opens the output file o names for writing on from its
// checkpoint: it must hold at least Offset bytes and begin as it did;
// it is truncated to Offset, positioned there.
func (o FileState) Reopen() (*os.File, error) {
	f, err := os.OpenFile(o.Path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("%w: %s is not a regular file", ErrOutput, o.Path))
	}
	if fi.Size() < o.Offset {
		return fail(fmt.Errorf("%w: %s holds %d bytes, the state says %d were written", ErrOutput, o.Path, fi.Size(), o.Offset))
	}
	head := make([]byte, min(o.Offset, HeadSize))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fail(err)
	}
	sum := sha256.Sum256(head)
	if want, _ := hex.DecodeString(o.Head); !bytes.Equal(sum[:], want) {
		return fail(fmt.Errorf("%w: %s does not begin as it did", ErrOutput, o.Path))
	}
	if err := f.Truncate(o.Offset); err != nil {
		return fail(err)
	}
	if _, err := f.Seek(o.Offset, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, nil
}
