package scan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"

	"github.com/portscan/portscan/ports"
)

// fingerprintVersion starts what is hashed, so that a change of what a
// definition holds changes every fingerprint.
const fingerprintVersion = "portscan scan definition 1"

// Fingerprint names a scan's definition: what it scans, in what order.
// Two runs of one definition (the shards of a scan, a run and its
// resumption) have the same fingerprint, however their flags were
// ordered; a run of another has another, so that their outputs are
// never merged by mistake. The definition is the target specs in the
// order given (the arguments, then the -iL list as read: its specs,
// not its comments or layout), and which addresses names stand for
// (-4, -6, --all-addresses); the exclusions (--exclude, then
// --exclude-file); the port set of each protocol; the protocols; the
// seed; and whether only hosts are discovered. Not the shard, the
// timing, the outputs, detection or the catalogs: they change how a
// scan runs or is written, not which probes make it.
//
// Feed it with Target and Exclude as the specs are read
// (targets.Options.Seen), then take Sum.
type Fingerprint struct {
	targets, excluded hash.Hash
}

// NewFingerprint returns a Fingerprint with no spec fed yet.
func NewFingerprint() *Fingerprint {
	return &Fingerprint{targets: sha256.New(), excluded: sha256.New()}
}

// Target feeds one target spec, as written.
func (f *Fingerprint) Target(spec string) { record(f.targets, spec) }

// Exclude feeds one excluded spec, as written.
func (f *Fingerprint) Exclude(spec string) { record(f.excluded, spec) }

// Definition is the rest of a scan's definition, beside its specs.
type Definition struct {
	// IPv6 and AllAddresses say which addresses host names stand for.
	IPv6, AllAddresses bool
	// Protocols and Ports are what is probed on each host; with
	// DiscoverOnly, neither.
	Protocols    []ports.Protocol
	Ports        *ports.Set
	DiscoverOnly bool
	// Seed is the seed of the probe order and of the shards.
	Seed uint64
}

// Sum returns the fingerprint of the specs fed and d: the first 16
// bytes of a SHA-256, in 32 hex digits.
func (f *Fingerprint) Sum(d Definition) string {
	h := sha256.New()
	record(h, fingerprintVersion)
	h.Write(f.targets.Sum(nil))
	h.Write(f.excluded.Sum(nil))
	family := "ipv4"
	if d.IPv6 {
		family = "ipv6"
	}
	record(h, family)
	record(h, flag(d.AllAddresses))
	record(h, flag(d.DiscoverOnly))
	if !d.DiscoverOnly {
		protos := slices.Clone(d.Protocols)
		slices.Sort(protos)
		protos = slices.Compact(protos)
		for _, p := range protos {
			record(h, p.String())
			if d.Ports != nil {
				record(h, d.Ports.Spec(p))
			} else {
				record(h, "")
			}
		}
	}
	record(h, "")
	h.Write(binary.BigEndian.AppendUint64(nil, d.Seed))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// record writes s with its length first, so that no two lists of
// strings write the same bytes.
func record(h hash.Hash, s string) {
	h.Write(binary.AppendUvarint(nil, uint64(len(s))))
	h.Write([]byte(s))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
