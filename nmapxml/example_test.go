package nmapxml_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/portscan/portscan/nmapxml"
)

// Hosts are decoded one at a time as the tokens stream past, so a file
// of any size is read in the memory of one host.
func ExampleHost() {
	const doc = `<nmaprun scanner="nmap" start="1700000000" version="7.94" xmloutputversion="1.05">
<host><status state="up" reason="syn-ack" reason_ttl="0"/><address addr="127.0.0.1" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" method="table" conf="3"/></port></ports></host>
<host><status state="down" reason="no-response" reason_ttl="0"/><address addr="127.0.0.2" addrtype="ipv4"/></host>
</nmaprun>`
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "nmaprun":
			var run nmapxml.Run
			if err := run.DecodeStartTag(se); err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(run.Scanner, run.Version, run.Start)
		case "host":
			var h nmapxml.Host
			if err := dec.DecodeElement(&h, &se); err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(h.Addresses[0].Addr, h.Status.State)
			if h.Ports != nil {
				for _, p := range h.Ports.Port {
					fmt.Println(" ", p.PortID+"/"+p.Protocol, p.State.State, p.Service.Name)
				}
			}
		}
	}
	// Output:
	// nmap 7.94 1700000000
	// 127.0.0.1 up
	//   22/tcp open ssh
	// 127.0.0.2 down
}
