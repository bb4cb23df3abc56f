package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/targets"
)

// ErrPolicy is wrapped by every error Parse returns for a policy that
// cannot be used: bad YAML, unknown keys, wrong types, conflicting rules.
var ErrPolicy = errors.New("invalid policy")

// The limits of a policy. A policy is a short list of groups: these are
// far beyond any real one, and keep the YAML parser, whose memory grows
// quadratically with the nesting depth, from taking the machine down.
const (
	// MaxSize is the largest policy, in bytes.
	MaxSize = 256 << 10
	// MaxDepth is how deeply collections may nest: each flow list or
	// mapping, each block mapping or list counts a level.
	MaxDepth = 64
)

// ErrTooLarge is wrapped by the error for a policy larger than MaxSize.
var ErrTooLarge = errors.New("policy too large")

// ErrTooDeep is wrapped by the error for a policy nested deeper than
// MaxDepth.
var ErrTooDeep = errors.New("policy nested too deeply")

// Pos is a place in the policy file; Line and Col count from 1.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"column"`
}

// PolicyError is a mistake in a policy file. It prints as one line,
// "policy.yaml:4:7: message", and matches ErrPolicy.
type PolicyError struct {
	File string
	Pos  Pos
	Msg  string
	// Err is ErrTooLarge or ErrTooDeep for a policy past a limit, or nil.
	Err error
}

// Error returns "file:line:col: message".
func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Unwrap returns ErrPolicy, and Err if set.
func (e *PolicyError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrPolicy, e.Err}
	}
	return []error{ErrPolicy}
}

// Kind is the kind of a rule.
type Kind uint8

// The kinds of rule. Allow rules produce no check of their own: they
// only exempt ports from the group's Other rule. The kinds from Service
// on judge what service detection found (Group.Detection).
const (
	Allow         Kind = iota + 1 // may be open
	Require                       // must be open
	Deny                          // must never be open
	Other                         // any open port no other rule names
	Service                       // a services entry: the port, when open, speaks one of Names
	DenyService                   // a deny_services entry: no open port speaks Names[0]
	TLSVersion                    // tls min_version: no handshake below Version
	TLSExpiry                     // tls expires_within: no certificate expiring within Within
	TLSSelfSigned                 // tls self_signed: deny or warn: no self-signed certificate
)

var kindNames = [...]string{"", "allow", "require", "deny", "other", "service", "deny-service", "tls-version", "tls-expiry", "tls-self-signed"}

// String returns the rule's name in reports: for allow, require, deny
// and other the key that writes it in a policy ("require"); "service",
// "deny-service", "tls-version", "tls-expiry" and "tls-self-signed" for
// the rules on detected services.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Action is what a group does with an open port that no rule names.
type Action uint8

// The actions for other open ports. Fail is the default: a policy lists
// what may be open.
const (
	Fail Action = iota // a violation
	Warn               // a warning, which does not fail the audit
)

// String returns "deny" or "warn", as the policy writes it.
func (a Action) String() string {
	if a == Warn {
		return "warn"
	}
	return "deny"
}

// Rule is one entry of a group's allow, require or deny list, or one
// of its rules on detected services.
type Rule struct {
	Kind Kind
	// Text is the entry as written: "https", "8000-8100", "53/udp"; for
	// a services entry its port and names ("443/tcp https"), for
	// deny_services the name, for tls the value ("1.2", "30d", "deny").
	Text  string
	Pos   Pos
	Ports *ports.Set // the ports named; nil for deny-service and tls rules

	// Names are the service names a Service rule accepts, or the one a
	// DenyService rule denies, as written (see [MatchService]).
	Names []string
	// Version is a TLSVersion rule's lowest version, as crypto/tls
	// numbers them (tls.VersionTLS12).
	Version uint16
	// Within is a TLSExpiry rule's window: a certificate that expires
	// sooner fails.
	Within time.Duration
	// Action is what a TLSSelfSigned rule makes of a self-signed
	// certificate: a violation (Fail) or a warning.
	Action Action
}

// Entry is a target written in a group, with its place.
type Entry struct {
	Text string
	Pos  Pos
}

// Group is a named set of hosts and the rules their ports must follow.
type Group struct {
	Name    string
	Pos     Pos // of the group's mapping
	Targets []Entry
	Exclude []Entry
	Rules   []Rule // allow, require and deny entries in file order
	// Detection are the group's rules on detected services: services
	// and deny_services entries and tls settings, in file order.
	Detection []Rule
	Other     Action
	// OtherPos is where "other" is set, or the group's place if it is
	// not.
	OtherPos Pos

	allowed *ports.Set // allow and require
	named   *ports.Set // allow, require and deny
	set     *targets.Set
	names   map[string]bool // host names among the targets, lower case
}

// Setting is one setting of the policy's scan block as written, with
// its place; Name is its key. Policy.Scan holds its decoded value.
type Setting struct {
	Name  string
	Value string
	Pos   Pos
}

// Policy is a parsed policy file.
type Policy struct {
	// File is the name the policy was read from, as given: reports
	// point into it.
	File string
	// Scan holds the settings of the scan block, decoded; Scan.Given
	// says which the block gives. A scan lays them over its defaults,
	// and the options given explicitly over them (see scan.Options).
	Scan scan.Options
	// Settings are the scan block's settings as written, in file order.
	Settings []Setting
	Groups   []*Group

	now func() time.Time
}

// Options tune Parse.
type Options struct {
	// Lookup returns the ports of a service name, as services.Catalog.Ports
	// does; nil accepts only numbers.
	Lookup func(name string) []ports.Port
	// Resolve looks up host names among group targets when a host is
	// judged; nil means the system resolver. Targets.Family picks which
	// addresses of a name count.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Family is the address family of host names among the targets.
	Family targets.Family
	// Now is the time certificates' expiry is judged from (tls
	// expires_within); nil means time.Now.
	Now func() time.Time
}

// Load reads and parses the policy file at path. It reads no more than
// one byte past MaxSize, so that a device or pipe without end is refused
// at once.
func Load(path string, opt Options) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data, opt)
}

// Ports returns the ports a scan must probe for the policy to be judged:
// those of every require, deny and services rule.
func (p *Policy) Ports() *ports.Set {
	s := new(ports.Set)
	for _, g := range p.Groups {
		for _, r := range g.Rules {
			if r.Kind == Require || r.Kind == Deny {
				s.Union(r.Ports)
			}
		}
		for _, r := range g.Detection {
			if r.Ports != nil {
				s.Union(r.Ports)
			}
		}
	}
	return s
}

// Detects reports whether any group has rules on detected services
// (services, deny_services, tls): a scan for the policy must run
// service detection.
func (p *Policy) Detects() bool {
	for _, g := range p.Groups {
		if len(g.Detection) > 0 {
			return true
		}
	}
	return false
}

// Targets returns every group's targets, for a scan: exclusions are left
// to each group's judging, since a host one group excludes may belong to
// another.
func (p *Policy) Targets() []string {
	var out []string
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			out = append(out, t.Text)
		}
	}
	return out
}

// Setting returns the scan setting called name, if the policy has it.
func (p *Policy) Setting(name string) (Setting, bool) {
	for _, s := range p.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Covers reports whether the group judges the host at addr, named
// hostname in the results (or ""): whether its targets, less its
// exclusions, name it. A host name among the targets matches the same
// name in the results, and the addresses it resolves to.
func (g *Group) Covers(ctx context.Context, addr netip.Addr, hostname string) (bool, error) {
	if hostname != "" && g.names[strings.ToLower(strings.TrimSuffix(hostname, "."))] {
		return true, nil
	}
	return g.set.Contains(ctx, addr)
}

// Allowed reports whether the group allows p to be open: an allow or a
// require rule names it.
func (g *Group) Allowed(p ports.Port) bool { return g.allowed.Contains(p) }

// Named reports whether any rule of the group names p.
func (g *Group) Named(p ports.Port) bool { return g.named.Contains(p) }
