package scanner_test

import (
	"fmt"

	"github.com/portscan/portscan/scanner"
)

// The pings of raw discovery, as nmap's -PE -PS443 -PA80 -PP name them.
func ExampleCheckPings() {
	for _, p := range scanner.DefaultPings {
		fmt.Println(p)
	}
	fmt.Println(scanner.CheckPings([]scanner.Ping{{Kind: scanner.PingSYN, Port: 22}, {Kind: scanner.PingUDP}}))
	// Output:
	// echo
	// syn/443
	// ack/80
	// timestamp
	// ping udp/0: port 0
}
