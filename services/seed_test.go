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
	// The seed's entries are the catalog's C-tables, no more: the rest
	// is portscan's own layer (TestOwnLayer).
	counts := map[ports.Protocol]int{}
	n := 0
	for e := range c.All() {
		if strings.HasPrefix(e.Table, "C-") {
			counts[e.Port.Proto]++
			n++
		}
	}
	if n != 493 || counts[ports.TCP] != 257 || counts[ports.UDP] != 232 || counts[ports.DDP] != 4 {
		t.Errorf("catalog has %d seed entries (%v), want 493 (257 tcp, 232 udp, 4 ddp)", n, counts)
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

// TestOwnLayer checks table P-1, the common service ports the seed lacks:
// it is marked, never shadows or is shadowed by a seed entry, and describes
// every entry in both languages.
func TestOwnLayer(t *testing.T) {
	c := Default()
	seed := map[ports.Port]bool{}
	var own []*Entry
	for e := range c.All() {
		switch {
		case strings.HasPrefix(e.Table, "C-"):
			seed[e.Port] = true
		case e.Table == OwnTable:
			own = append(own, e)
		default:
			t.Errorf("%v %s: table %q, want C-1 .. C-6 or %s", e.Port, e.Name, e.Table, OwnTable)
		}
	}
	counts := map[ports.Protocol]int{}
	for _, e := range own {
		counts[e.Port.Proto]++
		if seed[e.Port] {
			t.Errorf("%v %s: the seed has this port; the own layer only adds ports it lacks", e.Port, e.Name)
		}
		if c.Lookup(e.Port) != e {
			t.Errorf("%v %s: listed twice in the own layer", e.Port, e.Name)
		}
		if !regexp.MustCompile(`\p{Han}`).MatchString(e.Description) || e.DescriptionEn == "" || e.Note != "" {
			t.Errorf("%v %s: want a Chinese and an English description and no note, got %q %q %q", e.Port, e.Name, e.Description, e.DescriptionEn, e.Note)
		}
	}
	if len(own) != 71 || counts[ports.TCP] != 54 || counts[ports.UDP] != 17 {
		t.Errorf("own layer has %d entries (%v), want 71 (54 tcp, 17 udp)", len(own), counts)
	}
}

// TestDefaultPortsExpected checks the ports a network engineer expects a
// default scan to find (issue 14): each is in the catalog, so in the
// default port set.
func TestDefaultPortsExpected(t *testing.T) {
	c := Default()
	for _, n := range []uint16{135, 3389, 5000, 5900, 6379, 8000, 8443, 9200, 11211, 27017, 1433, 1521, 3306, 5432, 5672, 1883, 8883, 9092, 2375, 2376, 6443, 10250, 3478, 5060, 5061, 554, 873, 389, 636, 445, 139, 1194} {
		if p := (ports.Port{Number: n, Proto: ports.TCP}); c.Lookup(p) == nil {
			t.Errorf("%v is not in the catalog", p)
		}
	}
	for _, n := range []uint16{53, 67, 123, 137, 138, 161, 162, 500, 1900, 4500, 5353, 5355, 51820, 1194, 3478, 5060, 11211} {
		if p := (ports.Port{Number: n, Proto: ports.UDP}); c.Lookup(p) == nil {
			t.Errorf("%v is not in the catalog", p)
		}
	}
}
