package probes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/dlclark/regexp2/v2"

	"github.com/portscan/portscan/ports"
)

// Limits on what a file may hold. They bound the memory and the load
// time a hostile or broken file can cost; nmap's own file is far below
// each (about 2.5 MB, 150 probes, 12,000 match lines, lines under 2 KB).
const (
	MaxFileSize = 16 << 20 // bytes
	MaxLineSize = 64 << 10 // bytes in one line
	MaxProbes   = 4096     // Probe directives
	MaxMatches  = 200000   // match and softmatch lines, all probes together
)

// Defaults that apply when a probe leaves a directive out, as nmap's.
const (
	DefaultIntensity  = 7                       // --version-intensity
	DefaultRarity     = 5                       // a probe without a rarity line
	DefaultTotalWait  = 5000 * time.Millisecond // a probe without totalwaitms
	DefaultTCPWrapped = 2000 * time.Millisecond // a probe without tcpwrappedms
	// DefaultMatchTimeout bounds one pattern's match against one reply.
	DefaultMatchTimeout = 100 * time.Millisecond
)

// Errors of a probes file; a *ParseError wraps one of them.
var (
	// ErrSyntax is a line that is not a valid directive.
	ErrSyntax = errors.New("syntax error")
	// ErrLimit is a file past one of the limits (MaxFileSize, ...).
	ErrLimit = errors.New("over limit")
	// ErrPattern is a pattern the engine could not compile; such a
	// match line is skipped, and listed in [File.Refused].
	ErrPattern = errors.New("pattern refused")
)

// ParseError is a fault at a place in a probes file.
type ParseError struct {
	File   string // the file's name as given to Parse
	Line   int    // 1-based
	Column int    // 1-based byte column; 0 when the fault is the whole line
	Err    error  // ErrSyntax, ErrLimit or ErrPattern
	Msg    string // what is wrong
}

// Error returns "file:line:column: msg", or less of the place when the
// fault is the whole line or the whole file.
func (e *ParseError) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// Options tune how a file is loaded. The zero Options works.
type Options struct {
	// MatchTimeout bounds one pattern's match against one reply;
	// DefaultMatchTimeout when zero.
	MatchTimeout time.Duration
	// AllPorts ignores the file's Exclude directive, as nmap's
	// --allports does.
	AllPorts bool
}

func (o Options) matchTimeout() time.Duration {
	if o.MatchTimeout > 0 {
		return o.MatchTimeout
	}
	return DefaultMatchTimeout
}

// File is a parsed nmap-service-probes file. It is safe for concurrent
// use once loaded.
type File struct {
	Name    string     // as given to Parse
	Probes  []*Probe   // in file order
	Exclude *ports.Set // the Exclude directive's ports; nil when none or AllPorts
	// Refused lists the match lines whose pattern the engine could not
	// compile (ErrPattern); they never match.
	Refused []*ParseError

	byName     map[string]*Probe // "TCP/NULL", "UDP/DNSStatusRequest"
	null       *Probe            // the TCP probe with an empty payload named NULL
	matchFails atomic.Int64
}

// Probe is one Probe directive and the lines under it.
type Probe struct {
	Protocol  ports.Protocol // ports.TCP or ports.UDP
	Name      string
	Payload   []byte // what to send, escapes decoded; empty for NULL
	NoPayload bool   // the no-payload flag: a UDP probe not for payload use
	Ports     []PortRange
	SSLPorts  []PortRange
	// Rarity runs 1 (common) to 9 (rare); DefaultRarity when the probe
	// has no rarity line.
	Rarity int
	// TotalWait is how long to wait for the whole reply; TCPWrapped how
	// soon a close after connecting counts as tcpwrapped. Zero when not
	// given: see [Probe.Wait] and [Probe.WrappedWait].
	TotalWait  time.Duration
	TCPWrapped time.Duration
	// Fallback names the probes whose match lines are tried after this
	// one's, in order; FallbackProbes are those probes.
	Fallback       []string
	FallbackProbes []*Probe
	Matches        []*Match // match and softmatch lines, in file order
	Line           int      // of the Probe directive
}

// Wait returns TotalWait, or DefaultTotalWait when the probe has none.
func (p *Probe) Wait() time.Duration {
	if p.TotalWait > 0 {
		return p.TotalWait
	}
	return DefaultTotalWait
}

// WrappedWait returns TCPWrapped, or DefaultTCPWrapped when the probe has
// none.
func (p *Probe) WrappedWait() time.Duration {
	if p.TCPWrapped > 0 {
		return p.TCPWrapped
	}
	return DefaultTCPWrapped
}

// Possible says whether one of the probe's own match or softmatch lines
// names service. After a softmatch, nmap sends only such probes: use it
// to narrow a plan from [File.ProbesFor].
func (p *Probe) Possible(service string) bool {
	for _, m := range p.Matches {
		if m.Service == service {
			return true
		}
	}
	return false
}

// Match is one match or softmatch line.
type Match struct {
	Service string // the service it names ("ssh")
	Soft    bool   // a softmatch line
	Pattern string // as written, between its delimiters
	// CaseInsensitive and DotAll are the pattern's i and s options.
	CaseInsensitive, DotAll bool
	// The version fields as written, with $1 and the helpers unexpanded:
	// p/ v/ i/ h/ o/ d/ and each cpe:/.
	Product, Version, Info, Hostname, OS, Device string
	CPE                                          []string
	Line                                         int

	re                                       *regexp2.Regexp // nil when refused
	product, version, info, host, os, device template
	cpe                                      []template
}

// PortRange is an inclusive range of ports of a ports or sslports line.
type PortRange struct{ Lo, Hi uint16 }

func inRanges(rs []PortRange, port uint16) bool {
	for _, r := range rs {
		if r.Lo <= port && port <= r.Hi {
			return true
		}
	}
	return false
}

// Load reads the probes file at path.
func Load(path string, opts Options) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f, opts)
}

// Parse reads a probes file from r; name is used in errors. A syntax
// error or a limit reached ends parsing with a *ParseError; a pattern the
// engine refuses does not (see [File.Refused]).
func Parse(name string, r io.Reader, opts Options) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, &ParseError{File: name, Err: ErrLimit,
			Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	p := &parser{name: name, opts: opts, f: &File{Name: name, byName: map[string]*Probe{}}}
	if err := p.parse(data); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if opts.AllPorts {
		p.f.Exclude = nil
	}
	return p.f, nil
}

// MatchFailures returns how many pattern matches have ended in an error
// (a timeout or the engine's backtracking limit) since the file was
// loaded; such a match counts as no match.
func (f *File) MatchFailures() int64 { return f.matchFails.Load() }

// Lookup returns the probe of that protocol and name, or nil.
func (f *File) Lookup(proto ports.Protocol, name string) *Probe {
	return f.byName[key(proto, name)]
}

func key(proto ports.Protocol, name string) string { return proto.String() + "/" + name }

// Excluded says whether the file's Exclude directive keeps version
// detection off the port.
func (f *File) Excluded(proto ports.Protocol, port uint16) bool {
	return f.Exclude != nil && f.Exclude.Contains(ports.Port{Proto: proto, Number: port})
}
