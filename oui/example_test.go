package oui_test

import (
	"fmt"
	"net"
	"strings"

	"github.com/portscan/portscan/oui"
)

func ExampleParse() {
	r, err := oui.Parse(strings.NewReader("00-00-5E   (hex)\t\tExample Networks, Inc.\n00005E     (base 16)\t\tExample Networks, Inc.\n"))
	if err != nil {
		panic(err)
	}
	mac, _ := net.ParseMAC("00:00:5e:00:53:01")
	fmt.Printf("%q\n", r.Vendor(mac))
	mac, _ = net.ParseMAC("02:42:ac:11:00:02")
	fmt.Printf("%q\n", r.Vendor(mac))
	// Output:
	// "Example Networks, Inc."
	// ""
}
