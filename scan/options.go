// Package scan holds the options of a scan as a user states them: the
// targets, the ports, the protocols and the timing, before anything is
// resolved or checked. The command line fills an [Options] from its
// flags, and an audit policy's scan block decodes into one, so that both
// speak one typed vocabulary and neither needs the other's names;
// cmd/portscan turns the result into a scanner.Config.
//
// Which settings were given is recorded in [Options.Given]: a setting
// given explicitly outranks one given with less weight ([Options.Override]
// lays one set of options over another), and nmap's timing templates
// ([Options.ApplyTiming]) set only what was not given.
//
// A [Fingerprint] names what a scan's options define, the probes that
// make it, so that the shards and resumed runs of one scan are told
// apart from other scans.
package scan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Options are the options of one scan. Given says which settings were
// given; the others hold what the filler put there: the command line's
// defaults, bound with its flags, or zero in a policy's scan block.
type Options struct {
	// Targets are the targets as written: addresses, ranges, prefixes,
	// host names. They are not a setting: Override leaves them.
	Targets      []string
	InputList    string // a file of targets; "-" is standard input
	Exclude      string // targets not to scan, comma-separated
	ExcludeFile  string // a file of targets not to scan
	IPv4, IPv6   bool   // which addresses of host names to scan (IPv4 when neither)
	AllAddresses bool   // every address of a host name, not only the first

	Ports        string // a port specification; "" is every catalog port of the protocols scanned
	TopPorts     int    // the N highest-ranked catalog ports of each protocol, instead of Ports; 0 is not asked for
	ExcludePorts string // ports not to scan, the same syntax as Ports
	TCP, UDP     bool   // the protocols; TCP when neither
	// Syn scans TCP with raw SYNs rather than connects (nmap -sS).
	Syn bool
	// Always are ports probed whatever Ports and ExcludePorts say, on
	// the protocols scanned (those an audit's rules name). Not a
	// setting: Override leaves it.
	Always *ports.Set

	SkipDiscovery     bool // scan every host, answering or not (nmap -Pn)
	Rate              float64
	Concurrency       int
	Retries           int
	HostGroup         int
	InitialRTTTimeout time.Duration
	MinRTTTimeout     time.Duration
	MaxRTTTimeout     time.Duration
	Seed              uint64
	Timing            int // nmap's timing template, 0 to 5, if given; -1 is none

	// Detect runs service detection on the open ports (nmap -sV): an
	// audit whose policy has service rules turns it on when not given.
	Detect bool

	// Shard (--shard I/N), or Shards with ShardIndex (--shards N
	// --shard-index K), say which share of the scan this run probes
	// (package shard); ShardOf checks them and Seed together.
	Shard      result.Shard
	Shards     int
	ShardIndex int

	// Given are the settings given explicitly.
	Given Field
}

// Field names one setting of Options, for Given; Fields combine with |.
type Field uint32

// The settings of Options, each named as its field.
const (
	InputList Field = 1 << iota
	Exclude
	ExcludeFile
	IPv4
	IPv6
	AllAddresses
	Ports
	TopPorts
	ExcludePorts
	TCP
	UDP
	SkipDiscovery
	Rate
	Concurrency
	Retries
	HostGroup
	InitialRTTTimeout
	MinRTTTimeout
	MaxRTTTimeout
	Seed
	Timing
	Detect
	Shard
	Shards
	ShardIndex
	Syn

	fieldEnd // the first bit past the settings
)

// Has reports whether every setting of s is in f.
func (f Field) Has(s Field) bool { return f&s == s }

// Setting returns a pointer to the setting f names (one Field alone),
// for code that fills Options setting by setting: a *string, *bool,
// *int, *float64, *time.Duration, *uint64 or *result.Shard. It panics
// if f is not one setting.
func (o *Options) Setting(f Field) any {
	switch f {
	case InputList:
		return &o.InputList
	case Exclude:
		return &o.Exclude
	case ExcludeFile:
		return &o.ExcludeFile
	case IPv4:
		return &o.IPv4
	case IPv6:
		return &o.IPv6
	case AllAddresses:
		return &o.AllAddresses
	case Ports:
		return &o.Ports
	case TopPorts:
		return &o.TopPorts
	case ExcludePorts:
		return &o.ExcludePorts
	case TCP:
		return &o.TCP
	case UDP:
		return &o.UDP
	case SkipDiscovery:
		return &o.SkipDiscovery
	case Rate:
		return &o.Rate
	case Concurrency:
		return &o.Concurrency
	case Retries:
		return &o.Retries
	case HostGroup:
		return &o.HostGroup
	case InitialRTTTimeout:
		return &o.InitialRTTTimeout
	case MinRTTTimeout:
		return &o.MinRTTTimeout
	case MaxRTTTimeout:
		return &o.MaxRTTTimeout
	case Seed:
		return &o.Seed
	case Timing:
		return &o.Timing
	case Detect:
		return &o.Detect
	case Shard:
		return &o.Shard
	case Shards:
		return &o.Shards
	case ShardIndex:
		return &o.ShardIndex
	case Syn:
		return &o.Syn
	}
	panic(fmt.Sprintf("scan: Setting(%#x) is not one setting", uint32(f)))
}

// alternatives are settings that stand for one another: Override takes
// back those of a group that over does not give when it gives another
// (--top-ports over a policy's ports replaces them, as -p would).
var alternatives = [...]Field{Ports | TopPorts}

// Override sets each setting that over gives (over.Given) to over's
// value, and counts it as given in o. Laid over one another in order of
// weight, options give each setting its strongest value: a policy's
// scan block over the defaults, then the flags given explicitly. A
// setting that stands for others (TopPorts for Ports) takes them back:
// they return to zero, not given.
func (o *Options) Override(over Options) {
	for _, alt := range alternatives {
		if over.Given&alt == 0 {
			continue
		}
		for f := Field(1); f < fieldEnd; f <<= 1 {
			if alt.Has(f) && !over.Given.Has(f) {
				reflect.ValueOf(o.Setting(f)).Elem().SetZero()
				o.Given &^= f
			}
		}
	}
	for f := Field(1); f < fieldEnd; f <<= 1 {
		if over.Given.Has(f) {
			reflect.ValueOf(o.Setting(f)).Elem().Set(reflect.ValueOf(over.Setting(f)).Elem())
		}
	}
	o.Given |= over.Given
}

// ApplyTiming applies nmap's timing template Timing to the settings not
// given: T0-T2 send one probe at a time, paced; T3 waits longer for slow
// hosts and retries twice; T4 is portscan's default; T5 trades accuracy
// for speed. A Timing not given, or -1, applies nothing.
func (o *Options) ApplyTiming() error {
	if !o.Given.Has(Timing) || o.Timing == -1 {
		return nil
	}
	if o.Timing < 0 || o.Timing > 5 {
		return fmt.Errorf("invalid timing template %d: want 0 to 5 (-T0 to -T5)", o.Timing)
	}
	set := func(f Field, apply func()) {
		if !o.Given.Has(f) {
			apply()
		}
	}
	switch o.Timing {
	case 0, 1, 2:
		rate := [...]float64{1.0 / 300, 1.0 / 15, 2.5}[o.Timing]
		set(Rate, func() { o.Rate = rate })
		set(Concurrency, func() { o.Concurrency = 1 })
		set(MaxRTTTimeout, func() { o.MaxRTTTimeout = 10 * time.Second })
	case 3:
		set(MaxRTTTimeout, func() { o.MaxRTTTimeout = 10 * time.Second })
		set(Retries, func() { o.Retries = 2 })
	case 5:
		set(InitialRTTTimeout, func() { o.InitialRTTTimeout = 250 * time.Millisecond })
		set(MinRTTTimeout, func() { o.MinRTTTimeout = 50 * time.Millisecond })
		set(MaxRTTTimeout, func() { o.MaxRTTTimeout = 300 * time.Millisecond })
	}
	return nil
}

// TimingNames are nmap's names of the timing templates, -T0 to -T5 in
// order.
var TimingNames = [...]string{"paranoid", "sneaky", "polite", "normal", "aggressive", "insane"}

// ParseTiming reads a timing template as nmap takes it: its number, 0
// to 5, or its name ("aggressive" is 4), in any case.
func ParseTiming(s string) (int, error) {
	if len(s) == 1 && s[0] >= '0' && s[0] <= '5' {
		return int(s[0] - '0'), nil
	}
	for i, name := range TimingNames {
		if strings.EqualFold(s, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("invalid timing template %q: want 0 to 5 or %s", s, strings.Join(TimingNames[:], ", "))
}

// Protocols returns the protocols scanned, in order: TCP unless only
// UDP is asked for (TCP being asked for by TCP or Syn).
func (o *Options) Protocols() []ports.Protocol {
	switch {
	case o.UDP && (o.TCP || o.Syn):
		return []ports.Protocol{ports.TCP, ports.UDP}
	case o.UDP:
		return []ports.Protocol{ports.UDP}
	}
	return []ports.Protocol{ports.TCP}
}

// ShardOf returns the share of the scan the options give: Shard
// (--shard I/N), or Shards and ShardIndex (--shards N --shard-index K),
// never both; the zero Shard for the whole scan, which a share of one
// is. A share of more than one needs a Seed other than 0, since every
// shard must walk the same permutation. The errors name the flags.
func (o *Options) ShardOf() (result.Shard, error) {
	var s result.Shard
	switch {
	case o.Given.Has(Shard) && o.Given.Has(Shards):
		return s, errors.New("--shard and --shards cannot be used together")
	case o.Given.Has(Shard) && o.Given.Has(ShardIndex):
		return s, errors.New("--shard and --shard-index cannot be used together: --shard I/N counts from 1, --shards N --shard-index K from 0")
	case o.Given.Has(ShardIndex) && !o.Given.Has(Shards):
		return s, fmt.Errorf("--shard-index %d needs --shards N, the number of shards", o.ShardIndex)
	case o.Given.Has(Shard):
		s = o.Shard
	case o.Given.Has(Shards):
		if o.Shards < 1 {
			return s, fmt.Errorf("invalid --shards %d: want 1 or more", o.Shards)
		}
		if !o.Given.Has(ShardIndex) && o.Shards > 1 {
			return s, fmt.Errorf("--shards %d needs --shard-index (0 to %d)", o.Shards, o.Shards-1)
		}
		if o.ShardIndex < 0 || o.ShardIndex >= o.Shards {
			return s, fmt.Errorf("invalid --shard-index %d: --shards %d takes 0 to %d", o.ShardIndex, o.Shards, o.Shards-1)
		}
		s = result.Shard{Index: o.ShardIndex, Count: o.Shards}
	}
	if !s.Sharded() {
		return result.Shard{}, nil
	}
	if o.Seed == 0 {
		flag := "--shard " + s.String()
		if o.Given.Has(Shards) {
			flag = fmt.Sprintf("--shards %d", s.Count)
		}
		if o.Given.Has(Seed) {
			return result.Shard{}, fmt.Errorf("%s needs a --seed other than 0 (0 picks a random one): every shard must use the same permutation", flag)
		}
		return result.Shard{}, fmt.Errorf("%s needs --seed: every shard must use the same permutation", flag)
	}
	return s, nil
}
