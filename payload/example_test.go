package payload_test

import (
	"fmt"

	"github.com/portscan/portscan/payload"
)

func ExampleFor() {
	// The NTP probe: a client request whose transmit timestamp holds random
	// bits drawn from the seed.
	p := payload.For(123, 1)[0]
	fmt.Println(p.Name, "|", p.RFC, "|", len(p.Payload), "bytes")

	// A server copies that timestamp into the origin timestamp of its reply.
	reply := make([]byte, 48)
	reply[0] = 4<<3 | 4 // version 4, mode 4 (server)
	copy(reply[24:32], p.Payload[40:48])
	fmt.Println(p.Match(reply))

	// A reply to some other request does not match.
	reply[31] ^= 1
	fmt.Println(p.Match(reply))

	// Ports without a payload get an empty datagram.
	fmt.Println(len(payload.For(80, 1)))
	// Output:
	// ntp-client | RFC 5905 §7.3 | 48 bytes
	// true ntp-response origin match
	// false ntp origin timestamp mismatch
	// 0
}

func ExamplePorts() {
	for _, port := range payload.Ports() {
		for _, p := range payload.For(port, 0) {
			if port == 161 || port == 500 {
				fmt.Println(port, p.Name)
			}
		}
	}
	fmt.Println(len(payload.Ports()), "ports")
	// Output:
	// 161 snmp-v1-get
	// 161 snmp-v2c-get
	// 161 snmp-v3-discovery
	// 500 ikev2-sa-init
	// 500 ikev1-main-mode
	// 27 ports
}
