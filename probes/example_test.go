package probes_test

import (
	"fmt"
	"strings"

	"github.com/portscan/portscan/probes"
)

// A made-up probes file: the real one is the user's, read with
// probes.Load from where their nmap installed it.
const example = `Probe TCP NULL q||
softmatch toy m|^TOY|
match toy m|^TOY ([\d.]+)\r\n| p/Toy server/ v/$1/ cpe:/a:toyco:toy:$1/

Probe TCP Ask q|ASK\r\n|
rarity 8
ports 4000
match toy m|^ASKED ([\d.]+)| p/Toy server/ v/$1/
`

func ExampleFile_ProbesFor() {
	f, err := probes.Parse("example", strings.NewReader(example), probes.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, port := range []uint16{4000, 80} {
		fmt.Print(port, ":")
		for _, p := range f.ProbesFor(port, false, probes.DefaultIntensity) {
			fmt.Print(" ", p.Name, " (", p.Wait(), ")")
		}
		fmt.Println()
	}
	// Output:
	// 4000: NULL (5s) Ask (5s)
	// 80: NULL (5s)
}

func ExampleFile_Match() {
	f, err := probes.Parse("example", strings.NewReader(example), probes.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	null := f.Probes[0]
	svc, ok, soft := f.Match(null, []byte("TOY 2.1\r\n"))
	fmt.Println(ok, soft, svc.Name, svc.Product, svc.Version, svc.CPE, svc.Method)
	svc, ok, soft = f.Match(null, []byte("TOY?\r\n"))
	fmt.Println(ok, soft, svc.Name)
	// Output:
	// true false toy Toy server 2.1 [cpe:/a:toyco:toy:2.1] nmap-service-probes
	// true true toy
}

func ExampleParse_error() {
	_, err := probes.Parse("mine.nsp", strings.NewReader("Probe TCP NULL q||\nrarity 12\n"), probes.Options{})
	fmt.Println(err)
	// Output:
	// mine.nsp:2:8: invalid rarity "12": want 1 to 9
}
