package targets_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/portscan/portscan/targets"
)

// resolver answers from a fixed table, as a test or a dry run would.
func resolver(_ context.Context, host string) ([]netip.Addr, error) {
	if host == "www.example" {
		return []netip.Addr{netip.MustParseAddr("192.0.2.80")}, nil
	}
	return nil, errors.New("no such host")
}

func ExampleParseSpec() {
	for _, text := range []string{"10.0.0.7/24", "10.0.0-3.1-254", "scanme.example", "10.0.0.300"} {
		sp, err := targets.ParseSpec(text)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s name=%q\n", sp, sp.Name())
	}
	// Output:
	// 10.0.0.7/24 name=""
	// 10.0.0-3.1-254 name=""
	// scanme.example name="scanme.example"
	// invalid target "10.0.0.300": octet 300 out of range 0-255
}

func ExampleSet_All() {
	s := targets.NewSet(targets.Options{Resolve: resolver})
	if err := s.Add("192.0.2.0/30 192.0.2.2 www.example nowhere.example"); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Exclude("192.0.2.1"); err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for t, err := range s.All(ctx) {
		if err != nil {
			// A name that does not resolve is reported, not fatal.
			fmt.Println("warning:", err)
			continue
		}
		fmt.Println(t)
	}
	// Output:
	// 192.0.2.0
	// 192.0.2.2
	// 192.0.2.3
	// www.example (192.0.2.80)
	// warning: cannot resolve "nowhere.example": no such host
}

func ExampleSet_AddFile() {
	list := `# lab, read as with nmap -iL
192.0.2.0/31        # routers
192.0.2.1, 198.51.100.9
`
	s := targets.NewSet(targets.Options{})
	if err := s.AddFile("lab.txt", strings.NewReader(list)); err != nil {
		fmt.Println(err)
		return
	}
	for t := range s.All(context.Background()) {
		fmt.Println(t)
	}

	err := s.AddFile("typo.txt", strings.NewReader("192.0.2.7\n192.0.2.256\n"))
	fmt.Println(err)
	// Output:
	// 192.0.2.0
	// 192.0.2.1
	// 198.51.100.9
	// typo.txt:2:1: invalid target "192.0.2.256": octet 256 out of range 0-255
}

func ExampleSet_Count() {
	s := targets.NewSet(targets.Options{})
	_ = s.Add("10.0.0.0/8 10.1.2.3 fd00::/112")
	_ = s.Exclude("10.255.0.0/16")
	n, _ := s.Count(context.Background())
	fmt.Println(n)
	// Output:
	// 16777216
}

func ExampleSet_Contains() {
	s := targets.NewSet(targets.Options{})
	_ = s.Add("198.18.0.0/24")
	_ = s.Exclude("198.18.0.1-9")
	for _, a := range []string{"198.18.0.1", "198.18.0.10", "198.18.1.10"} {
		ok, _ := s.Contains(context.Background(), netip.MustParseAddr(a))
		fmt.Println(a, ok)
	}
	// Output:
	// 198.18.0.1 false
	// 198.18.0.10 true
	// 198.18.1.10 false
}
