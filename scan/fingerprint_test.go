package scan

import (
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// def is a scan definition for the fingerprint tests.
type def struct {
	targets, excluded []string
	d                 Definition
}

func (d def) sum() string {
	f := NewFingerprint()
	for _, t := range d.targets {
		f.Target(t)
	}
	for _, x := range d.excluded {
		f.Exclude(x)
	}
	return f.Sum(d.d)
}

func mustPorts(t *testing.T, spec string) *ports.Set {
	t.Helper()
	s, err := ports.ParseSpec(spec, ports.SpecOptions{Protocols: []ports.Protocol{ports.TCP, ports.UDP}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFingerprint(t *testing.T) {
	tcp := []ports.Protocol{ports.TCP}
	base := def{[]string{"10.0.0.0/24", "a.test"}, []string{"10.0.0.9"}, Definition{Protocols: tcp, Ports: mustPorts(t, "22,80,8000-8100"), Seed: 7}}
	// The fingerprint is a stable name: a change of this value breaks
	// every saved output's tie to its scan, and must be deliberate.
	if got, want := base.sum(), "71f40c603fe909cadf4cb1c9dcb23353"; got != want {
		t.Fatalf("Sum = %q, want %q", got, want)
	}
	same := map[string]def{
		"the same":            base,
		"ports written apart": {base.targets, base.excluded, Definition{Protocols: tcp, Ports: mustPorts(t, "8000-8100,80,22,8050"), Seed: 7}},
		"protocols twice":     {base.targets, base.excluded, Definition{Protocols: []ports.Protocol{ports.TCP, ports.TCP}, Ports: base.d.Ports, Seed: 7}},
	}
	for name, d := range same {
		if d.sum() != base.sum() {
			t.Errorf("%s: fingerprint %s, want %s", name, d.sum(), base.sum())
		}
	}
	other := map[string]def{
		"a target more":     {[]string{"10.0.0.0/24", "a.test", "10.0.1.1"}, base.excluded, base.d},
		"targets reordered": {[]string{"a.test", "10.0.0.0/24"}, base.excluded, base.d},
		"a target changed":  {[]string{"10.0.0.0/25", "a.test"}, base.excluded, base.d},
		"split differently": {[]string{"10.0.0.0/24a.test"}, base.excluded, base.d},
		"target excluded":   {[]string{"10.0.0.0/24"}, []string{"a.test", "10.0.0.9"}, base.d},
		"no exclusion":      {base.targets, nil, base.d},
		"another exclusion": {base.targets, []string{"10.0.0.8"}, base.d},
		"a port more":       {base.targets, base.excluded, Definition{Protocols: tcp, Ports: mustPorts(t, "22,80,443,8000-8100"), Seed: 7}},
		"udp too":           {base.targets, base.excluded, Definition{Protocols: []ports.Protocol{ports.TCP, ports.UDP}, Ports: mustPorts(t, "22,80,8000-8100,U:53"), Seed: 7}},
		"the ports on udp":  {base.targets, base.excluded, Definition{Protocols: []ports.Protocol{ports.UDP}, Ports: mustPorts(t, "U:22,80,8000-8100"), Seed: 7}},
		"another seed":      {base.targets, base.excluded, Definition{Protocols: tcp, Ports: base.d.Ports, Seed: 8}},
		"no seed":           {base.targets, base.excluded, Definition{Protocols: tcp, Ports: base.d.Ports}},
		"discovery only":    {base.targets, base.excluded, Definition{DiscoverOnly: true, Seed: 7}},
		"ipv6 names":        {base.targets, base.excluded, Definition{IPv6: true, Protocols: tcp, Ports: base.d.Ports, Seed: 7}},
		"every address":     {base.targets, base.excluded, Definition{AllAddresses: true, Protocols: tcp, Ports: base.d.Ports, Seed: 7}},
	}
	seen := map[string]string{base.sum(): "base"}
	for name, d := range other {
		s := d.sum()
		if prev, dup := seen[s]; dup {
			t.Errorf("%s: fingerprint %s, the same as %s's", name, s, prev)
		}
		seen[s] = name
	}
}

func TestShardOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want result.Shard
		err  string
	}{
		{"none", Options{}, result.Shard{}, ""},
		{"shard", Options{Shard: result.Shard{Index: 1, Count: 4}, Seed: 3, Given: Shard | Seed}, result.Shard{Index: 1, Count: 4}, ""},
		{"shards", Options{Shards: 4, ShardIndex: 3, Seed: 3, Given: Shards | ShardIndex | Seed}, result.Shard{Index: 3, Count: 4}, ""},
		{"one shard", Options{Shards: 1, Given: Shards}, result.Shard{}, ""},
		{"shard 1/1", Options{Shard: result.Shard{Index: 0, Count: 1}, Given: Shard}, result.Shard{}, ""},
		{"both", Options{Shard: result.Shard{Index: 1, Count: 4}, Shards: 4, Seed: 3, Given: Shard | Shards | Seed}, result.Shard{}, "--shard and --shards cannot be used together"},
		{"shard and index", Options{Shard: result.Shard{Index: 1, Count: 4}, Seed: 3, Given: Shard | ShardIndex | Seed}, result.Shard{}, "--shard and --shard-index cannot be used together"},
		{"no index", Options{Shards: 4, Seed: 3, Given: Shards | Seed}, result.Shard{}, "--shards 4 needs --shard-index (0 to 3)"},
		{"index alone", Options{ShardIndex: 2, Given: ShardIndex}, result.Shard{}, "--shard-index 2 needs --shards N"},
		{"index too big", Options{Shards: 4, ShardIndex: 4, Seed: 3, Given: Shards | ShardIndex | Seed}, result.Shard{}, "invalid --shard-index 4: --shards 4 takes 0 to 3"},
		{"no shards", Options{Shards: 0, Given: Shards | ShardIndex}, result.Shard{}, "invalid --shards 0"},
		{"no seed", Options{Shards: 4, ShardIndex: 0, Given: Shards | ShardIndex}, result.Shard{}, "--shards 4 needs --seed: every shard must use the same permutation"},
		{"no seed, --shard", Options{Shard: result.Shard{Index: 1, Count: 4}, Given: Shard}, result.Shard{}, "--shard 2/4 needs --seed: every shard must use the same permutation"},
		{"seed 0", Options{Shards: 4, ShardIndex: 0, Given: Shards | ShardIndex | Seed}, result.Shard{}, "--shards 4 needs a --seed other than 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.o.ShardOf()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ShardOf = %v, %v; want %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ShardOf = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
