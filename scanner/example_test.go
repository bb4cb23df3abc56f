package scanner_test

import (
	"context"
	"fmt"
	"net"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/targets"
)

// ExampleRun scans two ports of a loopback address, one with a listener,
// and prints what it finds open. The zero Config labels ports from the
// built-in catalog.
func ExampleRun() {
	ln, err := net.Listen("tcp", "127.0.0.77:8080") // something to find
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	ctx := context.Background()
	tgts := targets.NewSet(targets.Options{})
	tgts.Add("127.0.0.77")
	portSet, _ := ports.ParseSpec("8080,8081", ports.SpecOptions{})

	sink := result.Funcs{OnPort: func(p result.Port) {
		if p.State == result.Open {
			fmt.Println(p.Host, p.Port, p.State, p.Reason, p.Service.Name)
		}
	}}
	sum, err := scanner.Run(ctx, scanner.Config{Ports: portSet}, tgts.All(ctx), sink)
	fmt.Println(sum.HostsUp, "host up,", sum.Open, "open port,", err)
	// Output:
	// 127.0.0.77 8080/tcp open syn-ack webcache
	// 1 host up, 1 open port, <nil>
}

// ExampleRun_udp scans UDP ports the same way: a UDP port that answers
// is open, one the host says is unreachable is closed.
func ExampleRun_udp() {
	conn, err := net.ListenPacket("udp", "127.0.0.78:1080") // answers what it gets
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			conn.WriteTo(buf[:n], from)
		}
	}()

	ctx := context.Background()
	tgts := targets.NewSet(targets.Options{})
	tgts.Add("127.0.0.78")
	portSet, _ := ports.ParseSpec("U:1080,1109", ports.SpecOptions{Protocols: []ports.Protocol{ports.UDP}})
	cfg := scanner.Config{Ports: portSet, SkipDiscovery: true}

	scanner.Run(ctx, cfg, tgts.All(ctx), result.Funcs{OnPort: func(p result.Port) {
		fmt.Println(p.Port, p.State, p.Service.Name)
	}})
	// Unordered output:
	// 1080/udp open socks
	// 1109/udp closed kpop
}
