package resume

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// FormatName and Version name the state format; a state of another
// format or version is refused. Version 2: an html output's held hosts
// and page are a table per host, which a page begun by version 1 (one
// table for all) cannot take.
const (
	FormatName = "portscan-resume"
	Version    = 2
)

// MaxSize is the largest state Parse reads, and the recorder writes.
const MaxSize = 256 << 20

// ErrState is returned, wrapped, for a state file that is not one this
// version of portscan wrote whole: another format or version, corrupt,
// truncated, or inconsistent.
var ErrState = errors.New("invalid resume state")

// State is a checkpoint of a scan: what defines it, where each output
// file stood, the counts so far, and which hosts were done.
type State struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Done    bool      `json:"done"`  // the scan finished
	Saved   time.Time `json:"saved"` // when this checkpoint was written
	// Fingerprint names the scan's definition (result.Info.Fingerprint);
	// Definition spells it out, as the command line gave it.
	Fingerprint string     `json:"fingerprint,omitempty"`
	Definition  Definition `json:"definition,omitempty"`
	Seed        uint64     `json:"seed"` // of the probe order, as the engine used it
	Shard       Shard      `json:"shard,omitzero"`
	// Args is the command line, without the program name.
	Args     []string    `json:"args"`
	Outputs  []FileState `json:"outputs"`
	Summary  Summary     `json:"summary"`
	Progress Progress    `json:"progress"`
}

// Shard is result.Shard, as the state writes it.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Definition is what makes a scan the same scan: targets, exclusions,
// ports, protocols, seed, shard, each by name, as text.
type Definition map[string]string

// Diff names the first entry (in name order) in which d and o differ,
// with both values, or returns "" when they agree.
func (d Definition) Diff(o Definition) string {
	keys := slices.Sorted(maps.Keys(d))
	for k := range o {
		if _, ok := d[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if d[k] != o[k] {
			return fmt.Sprintf("%s: %q in the state, %q now", k, d[k], o[k])
		}
	}
	return ""
}

// FileState is an output file as a checkpoint left it.
type FileState struct {
	Flag   string `json:"flag"` // the flag that names it: --output, --output-xml, ...
	Path   string `json:"path"`
	Format string `json:"format"`
	// Offset is the file's length at the checkpoint; a resumed run
	// truncates the file there.
	Offset int64 `json:"offset"`
	// Head is the SHA-256, in hex, of the file's first HeadSize bytes
	// (or Offset, if fewer): a file that is not the one the state was
	// written with is refused.
	Head   string       `json:"head"`
	Writer output.State `json:"writer"`
}

// HeadSize is how much of each output file FileState.Head covers.
const HeadSize = 4096

// Summary are a scan's counts at a checkpoint: the hosts finished, the
// open ports reported, the probes of the hosts finished.
type Summary struct {
	Start        time.Time `json:"start,omitzero"`
	HostsUp      int       `json:"hosts_up"`
	HostsDown    int       `json:"hosts_down"`
	HostsUnknown int       `json:"hosts_unknown"`
	Open         int       `json:"open"`
	Probes       int64     `json:"probes"`
}

// Progress says which hosts (by result.Host.Index) were done: every
// one up to DoneThrough, those of the Done ranges above it, and of the
// others, what Hosts say was settled.
type Progress struct {
	DoneThrough uint64      `json:"done_through"`
	Done        [][2]uint64 `json:"done,omitempty"` // first and last index, increasing
	Hosts       []Host      `json:"hosts,omitempty"`
}

// Host is a host in flight at a checkpoint: what was settled of it.
type Host struct {
	Index    uint64     `json:"index"`
	Addr     netip.Addr `json:"addr"`
	Hostname string     `json:"hostname,omitempty"`
	Source   string     `json:"source,omitempty"`
	Start    time.Time  `json:"start,omitzero"`
	Up       bool       `json:"up"`
	Reason   string     `json:"reason,omitempty"`
	TTL      uint8      `json:"ttl,omitempty"`      // of the reply that gave Reason
	ReasonIP netip.Addr `json:"reason_ip,omitzero"` // who sent it, when not the host
	// Probes and Silent are reckoned from its settled ports: one probe
	// each, Tries for those that got no answer.
	Probes int `json:"probes"`
	Silent int `json:"silent"`
	// The ports settled are those of the first Walked steps of the
	// host's walk (scanner.PortOrder), and those of the Ahead steps; in
	// a shard, the first steps include those of ports it does not own.
	Walked int   `json:"walked"`
	Ahead  []int `json:"ahead,omitempty"`
	// Of those, Listed are written out in full, the others counted.
	Hidden []Hidden `json:"hidden,omitempty"`
	Listed []Port   `json:"listed,omitempty"`
}

// Hidden is output.Hidden, as the state writes it.
type Hidden struct {
	State    result.State  `json:"state"`
	Reason   string        `json:"reason,omitempty"`
	Count    int           `json:"count"`
	RTT      time.Duration `json:"rtt_ns,omitempty"` // the sum
	Answered int           `json:"answered,omitempty"`
	First    time.Time     `json:"first,omitzero"`
	Last     time.Time     `json:"last,omitzero"`
}

// Port is a listed port, as reported but for its catalog label, which
// the resumed run's catalog gives again.
type Port struct {
	Port     uint16                 `json:"port"`
	Protocol ports.Protocol         `json:"protocol"`
	State    result.State           `json:"state"`
	Reason   string                 `json:"reason,omitempty"`
	TTL      uint8                  `json:"ttl,omitempty"`
	ReasonIP netip.Addr             `json:"reason_ip,omitzero"` // result.Port.ReasonIP
	RTT      time.Duration          `json:"rtt_ns,omitempty"`
	Time     time.Time              `json:"time,omitzero"`
	Source   string                 `json:"source,omitempty"`
	Detected *output.DetectedRecord `json:"detected,omitempty"`
}

// Parse reads a state as written by Write, refusing anything else: a
// state is input, and may have been cut short or changed.
func Parse(r io.Reader) (*State, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrState, MaxSize>>20)
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrState, jsonErr(data, err))
	}
	if head.Format != FormatName {
		return nil, fmt.Errorf("%w: not a portscan resume state (format %q)", ErrState, head.Format)
	}
	if head.Version != Version {
		return nil, fmt.Errorf("%w: format version %d, this portscan reads version %d", ErrState, head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrState, jsonErr(data, err))
	}
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	return &st, nil
}

// jsonErr says where in data err arose: the byte offset, and line and
// column.
func jsonErr(data []byte, err error) string {
	msg := err.Error()
	if strings.Contains(msg, "unexpected end of JSON input") || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "truncated: " + msg
	}
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off <= 0 || off > int64(len(data)) {
		return msg
	}
	off-- // the byte at fault, the last one read
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d, column %d (byte %d): %s", line, col, off, msg)
}

// check refuses a state that Write would not have written.
func (st *State) check() error {
	if len(st.Args) == 0 {
		return errors.New("no command line")
	}
	if st.Shard != (Shard{}) && (st.Shard.Count < 2 || st.Shard.Index < 0 || st.Shard.Index >= st.Shard.Count) {
		return fmt.Errorf("shard %d of %d", st.Shard.Index, st.Shard.Count)
	}
	for i, o := range st.Outputs {
		switch {
		case o.Flag == "" || o.Path == "" || o.Path == "-":
			return fmt.Errorf("output %d: no flag or file", i+1)
		case !output.Known(o.Format) || !strings.EqualFold(o.Writer.Format, o.Format):
			return fmt.Errorf("output %d: format %q, writer of %q", i+1, o.Format, o.Writer.Format)
		case o.Offset < 0:
			return fmt.Errorf("output %d: offset %d", i+1, o.Offset)
		case len(o.Head) != 64 || strings.Trim(o.Head, "0123456789abcdef") != "":
			return fmt.Errorf("output %d: head digest %q", i+1, o.Head)
		}
	}
	s := st.Summary
	if s.HostsUp < 0 || s.HostsDown < 0 || s.HostsUnknown < 0 || s.Open < 0 || s.Probes < 0 {
		return errors.New("negative counts in the summary")
	}
	return st.Progress.check()
}

func (p *Progress) check() error {
	last := p.DoneThrough
	for _, r := range p.Done {
		if r[0] <= last || r[1] < r[0] {
			return fmt.Errorf("done hosts %d-%d out of order (after %d)", r[0], r[1], last)
		}
		last = r[1]
	}
	seen := map[uint64]bool{}
	for _, h := range p.Hosts {
		if h.Index <= p.DoneThrough || p.done(h.Index) || seen[h.Index] {
			return fmt.Errorf("host %d listed twice, or both done and in flight", h.Index)
		}
		seen[h.Index] = true
		if err := h.check(); err != nil {
			return fmt.Errorf("host %d: %w", h.Index, err)
		}
	}
	return nil
}

// done reports whether index is in one of the Done ranges.
func (p *Progress) done(index uint64) bool {
	if index <= p.DoneThrough {
		return true
	}
	i, found := slices.BinarySearchFunc(p.Done, index, func(r [2]uint64, x uint64) int {
		switch {
		case r[1] < x:
			return -1
		case r[0] > x:
			return 1
		}
		return 0
	})
	return found && i < len(p.Done)
}

// maxIndex is the largest index the progress names.
func (p *Progress) maxIndex() uint64 {
	m := p.DoneThrough
	if n := len(p.Done); n > 0 {
		m = max(m, p.Done[n-1][1])
	}
	for _, h := range p.Hosts {
		m = max(m, h.Index)
	}
	return m
}

func (h *Host) check() error {
	if !h.Addr.IsValid() {
		return errors.New("no address")
	}
	if h.Probes < 0 || h.Silent < 0 || h.Walked < 0 {
		return errors.New("negative counts")
	}
	prev := h.Walked
	for _, s := range h.Ahead {
		if s <= prev {
			return fmt.Errorf("settled step %d out of order", s)
		}
		prev = s
	}
	n := len(h.Listed)
	for _, x := range h.Hidden {
		if x.State == result.Unknown || x.State > result.OpenFiltered || x.Count <= 0 || x.Answered < 0 || x.Answered > x.Count || x.RTT < 0 {
			return fmt.Errorf("hidden ports %+v", x)
		}
		if n += x.Count; n < 0 {
			return errors.New("too many ports")
		}
	}
	for _, p := range h.Listed {
		if p.State == result.Unknown || p.State > result.OpenFiltered || p.Protocol != ports.TCP && p.Protocol != ports.UDP || p.RTT < 0 {
			return fmt.Errorf("listed port %d/%v in state %v", p.Port, p.Protocol, p.State)
		}
	}
	if n > h.Walked+len(h.Ahead) {
		return fmt.Errorf("%d ports counted in %d settled steps", n, h.Walked+len(h.Ahead))
	}
	return nil
}

// ReadFile reads the state at path; it returns nil and no error when
// there is none.
func ReadFile(path string) (*State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Write writes st to path atomically: to a temporary file in the same
// directory, synced, renamed over path, and the directory synced, so
// that path always holds a whole state, the old one or the new one,
// whenever the process or the machine stops.
func Write(path string, st *State) error {
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	if len(data) > MaxSize {
		return fmt.Errorf("the state would be larger than %d MiB: scan fewer hosts at once (--host-group)", MaxSize>>20)
	}
	data = append(data, '\n')
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails, harmlessly, once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
