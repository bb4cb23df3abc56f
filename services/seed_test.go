package services

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portscan/portscan/ports"
)

// seedRel is where the seed list lives beside a checkout of this repo:
// in shared/ of the checkout's parent, or of an ancestor for a worktree
// kept deeper (/work/wt/NAME beside /work/main).
var seedRel = filepath.Join("shared", "seed", "ports-catalog.txt")

// seedPath finds the seed list in the closest ancestor of the package
// directory that has it, or returns where it would be beside the checkout.
func seedPath() string {
	dir, err := filepath.Abs(".")
	if err != nil {
		return filepath.Join("..", "..", seedRel)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if p := filepath.Join(d, seedRel); fileExists(p) {
			return p
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "..", "..", seedRel)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

type seedRow struct {
	line    int
	port    uint16
	proto   string // "", "tcp", "udp" or "ddp"
	name    string
	aliases []string
	zh      string
	table   string
}

var (
	seedRowRe     = regexp.MustCompile(`^(\d+)(?:/(tcp|udp|ddp))?\s+(\S+)\s*(.*)$`)
	seedCaptionRe = regexp.MustCompile(`^表 (C-\d)\.`)
	seedIntroRe   = regexp.MustCompile(`^表 ?(C-\d)`)
	seedAliasRe   = regexp.MustCompile(`^\[([^\]]+)\]\s*(.*)$`)
	seedNoteRe    = regexp.MustCompile(`\[[abc]\]$`)
	bracketRe     = regexp.MustCompile(`\[[^\]]*\]`)
)

// readSeed parses the seed independently of the catalog parser: a table's
// rows come before its caption ("表 C-1. ..."); rows after the last
// caption belong to the table the last introduction names.
func readSeed(t *testing.T) []seedRow {
	t.Helper()
	path := seedPath()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("seed list %s not present; skipping the seed comparison", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows, pending []seedRow
	upcoming := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if m := seedCaptionRe.FindStringSubmatch(s); m != nil {
			for i := range pending {
				pending[i].table = m[1]
			}
			rows, pending = append(rows, pending...), nil
			continue
		}
		if m := seedIntroRe.FindStringSubmatch(s); m != nil {
			upcoming = m[1]
		}
		m := seedRowRe.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		num, _ := strconv.Atoi(m[1])
		r := seedRow{line: n, port: uint16(num), proto: m[2], name: m[3]}
		rest := m[4]
		if a := seedAliasRe.FindStringSubmatch(rest); a != nil {
			for _, x := range strings.Split(a[1], ",") {
				r.aliases = append(r.aliases, strings.TrimSpace(x))
			}
			rest = a[2]
		}
		r.zh = strings.TrimSpace(seedNoteRe.ReplaceAllString(rest, ""))
		pending = append(pending, r)
	}
	for i := range pending {
		pending[i].table = upcoming
	}
	return append(rows, pending...)
}

// errata are the seed's mistakes that data/ports.tsv corrects.
func applyErrata(r *seedRow) {
	switch {
	case r.name == "netrjs-4":
		r.port = 74
	case r.port == 2605:
		r.aliases = []string{"bgpd"}
	}
	for bad, good := range map[string]string{"Garcilis": "Gracilis", "Vertias": "Veritas", "Cliffod": "Clifford"} {
		r.zh = strings.ReplaceAll(r.zh, bad, good)
	}
}

func TestCatalogMatchesSeed(t *testing.T) {
	rows := readSeed(t)
	if len(rows) != 272 {
		t.Fatalf("seed has %d rows, want 272", len(rows))
	}
	c := Default()
	for _, r := range rows {
		applyErrata(&r)
		protos := []ports.Protocol{ports.TCP, ports.UDP}
		if r.proto != "" {
			p, _ := ports.ParseProtocol(r.proto)
			protos = []ports.Protocol{p}
		}
		for _, p := range protos {
			pp := ports.Port{Number: r.port, Proto: p}
			e := c.Lookup(pp)
			if e == nil {
				t.Errorf("seed line %d: %v (%s) missing from catalog", r.line, pp, r.name)
				continue
			}
			if e.Name != r.name || !slices.Equal(e.Aliases, r.aliases) || e.Description != r.zh || e.Table != r.table {
				t.Errorf("seed line %d: %v = %q %q %q %s, catalog has %q %q %q %s",
					r.line, pp, r.name, r.aliases, r.zh, r.table, e.Name, e.Aliases, e.Description, e.Table)
			}
			if e.DescriptionEn == "" && r.zh != "" {
				t.Errorf("seed line %d: %v has no English description", r.line, pp)
			}
		}
	}
	counts := map[ports.Protocol]int{}
	for e := range c.All() {
		counts[e.Port.Proto]++
	}
	if c.Len() != 493 || counts[ports.TCP] != 257 || counts[ports.UDP] != 232 || counts[ports.DDP] != 4 {
		t.Errorf("catalog has %d entries (%v), want 493 (257 tcp, 232 udp, 4 ddp)", c.Len(), counts)
	}
}

// TestNoBracketedAlias checks that no description kept a "[name]": in the
// seed, brackets after the service name always hold aliases (the daemon's
// name or a common one), so a description that still has them lost one.
func TestNoBracketedAlias(t *testing.T) {
	for e := range Default().All() {
		for _, d := range []string{e.Description, e.DescriptionEn} {
			if m := bracketRe.FindString(d); m != "" {
				t.Errorf("%v %s: description %q keeps %s, which should be an alias", e.Port, e.Name, d, m)
			}
		}
	}
}
