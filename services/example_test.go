package services_test

import (
	"fmt"
	"strings"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

func ExampleCatalog_Lookup() {
	c := services.Default()
	for _, p := range []ports.Port{{Number: 512, Proto: ports.TCP}, {Number: 512, Proto: ports.UDP}} {
		e := c.Lookup(p)
		fmt.Println(p, e.Name, e.Describe("en"))
	}
	// Output:
	// 512/tcp exec Authentication for remotely executed processes
	// 512/udp biff Asynchronous mail client (biff) and service (comsat)
}

func ExampleCatalog_ByName() {
	for _, e := range services.Default().ByName("comsat") {
		fmt.Println(e.Port, e.Name, e.Aliases, e.Table)
	}
	// Output:
	// 512/udp biff [comsat] C-2
}

func ExampleMerge() {
	mine, _ := services.Read(strings.NewReader("intranet 8080/tcp\n"), "my-services")
	c := services.Merge(mine, services.Default())
	e := c.Lookup(ports.Port{Number: 8080, Proto: ports.TCP})
	fmt.Println(e.Name, e.Source)
	// Output:
	// intranet my-services
}
