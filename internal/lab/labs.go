package lab

import (
	"bytes"
	"os/exec"
	"testing"
)

// NewFilteredLoopback builds the FilteredLoopback lab in a new namespace.
// It skips the test when namespaces are unavailable.
func NewFilteredLoopback(t testing.TB) *FilteredLoopback {
	t.Helper()
	l := filteredLayout
	l.NS = NewNamespace(t, "filtered")
	l.NS.Apply(l.preset())
	return &l
}

// NewLAN builds the LAN lab: two namespaces and the veth pair between
// them. It skips the test when namespaces are unavailable.
func NewLAN(t testing.TB) *LAN {
	t.Helper()
	return newLAN(t, lanLayout)
}

// NewLAN20 builds the LAN lab on a /20 (see LAN20Ports): 4096
// addresses, five live, three dropping. It skips the test when
// namespaces are unavailable.
func NewLAN20(t testing.TB) *LAN {
	t.Helper()
	return newLAN(t, lan20Layout)
}

func newLAN(t testing.TB, l LAN) *LAN {
	t.Helper()
	l.Scanner = NewNamespace(t, l.Name+"-scanner")
	l.Hosts = NewNamespace(t, l.Name+"-hosts")
	Veth(t, l.Scanner, "eth0", l.Hosts, "eth0")
	scanner, hosts := l.presets()
	l.Scanner.Apply(scanner)
	l.Hosts.Apply(hosts)
	return &l
}

// NewLoopbackSlash24 builds the LoopbackSlash24 lab in a new namespace.
// It skips the test when namespaces are unavailable.
func NewLoopbackSlash24(t testing.TB) *LoopbackSlash24 {
	t.Helper()
	l := slash24Layout
	l.NS = NewNamespace(t, "slash24")
	l.NS.Apply(l.preset())
	return &l
}

// Veth joins two namespaces with a veth pair, device devA in a and devB
// in b, both up. The pair goes away with either namespace.
func Veth(t testing.TB, a *Namespace, devA string, b *Namespace, devB string) {
	t.Helper()
	out, err := exec.Command("ip", "link", "add", devA, "netns", a.name, "type", "veth",
		"peer", "name", devB, "netns", b.name).CombinedOutput()
	if err != nil {
		t.Fatalf("lab: veth %s/%s - %s/%s: %v: %s", a.name, devA, b.name, devB, err, bytes.TrimSpace(out))
	}
	a.MustRun("ip", "link", "set", devA, "up")
	b.MustRun("ip", "link", "set", devB, "up")
}
