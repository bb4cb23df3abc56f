package shard_test

import (
	"fmt"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/shard"
)

// Example splits a scan of 3 hosts on 4 ports each into 2 shards, as
// "--shard 1/2" and "--shard 2/2" of one --seed would: every probe in
// exactly one shard, 6 in each.
func Example() {
	for _, text := range []string{"1/2", "2/2"} {
		s, err := shard.Parse(text)
		if err != nil {
			fmt.Println(err)
			return
		}
		plan, err := shard.New(7, s, 3, 4)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("shard %s owns %d of %d:", s, plan.Len(), plan.Total())
		for host := uint64(1); host <= 3; host++ {
			for port := range 4 {
				if plan.Owns(host, port) {
					fmt.Printf(" %d:%d", host, port)
				}
			}
		}
		fmt.Println()
	}
	_, err := shard.Parse("5/4")
	fmt.Println(err)
	_, err = shard.Of(4, 4)
	fmt.Println(err)
	// Output:
	// shard 1/2 owns 6 of 12: 1:0 1:3 2:3 3:0 3:1 3:2
	// shard 2/2 owns 6 of 12: 1:1 1:2 2:0 2:1 2:2 3:3
	// invalid shard 5/4: index must be 1 to 4
	// invalid shard index 4: with 4 shards it must be 0 to 3
}

// ExampleParseIndex reads a Kubernetes Job's completion index, in
// decimal; the zero Shard's plan owns the whole scan.
func ExampleParseIndex() {
	for _, text := range []string{"3", "08", "-1"} {
		k, err := shard.ParseIndex(text)
		fmt.Println(k, err)
	}
	whole, _ := shard.New(1, result.Shard{}, 10, 5)
	fmt.Println(whole.Len(), whole.Owns(10, 4))
	// Output:
	// 3 <nil>
	// 8 <nil>
	// 0 invalid shard index "-1": want a number, 0 or more
	// 50 true
}
