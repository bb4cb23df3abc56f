package capture_test

import (
	"fmt"
	"io"
	"os"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// Example reads a capture and prints what its traffic shows of each
// server port.
func Example() {
	file, err := os.Open("../testdata/pcaps/tcp-ethernet.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer file.Close()
	r, err := capture.NewReader(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	dec := capture.NewDecoder()
	an := capture.NewAnalyzer(capture.Options{Label: services.Default().Lookup})
	var d capture.Decoded
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // a *capture.ReadError: what was read so far stands
			break
		}
		dec.Decode(p.LinkType, p.Data, &d)
		an.Add(p.Time, &d)
	}
	an.Report(result.Funcs{
		OnPort: func(r result.Port) {
			fmt.Printf("%s %-8s %-8s %-11s %s, %d flows from %d clients\n",
				r.Host, r.Port, r.State, r.Reason, r.Service.Name, r.Evidence.Flows, r.Evidence.Clients)
		},
	})
	// Output:
	// 10.0.0.5 22/tcp   open     mid-stream  ssh, 1 flows from 1 clients
	// 10.0.0.5 80/tcp   open     syn-ack     http, 2 flows from 2 clients
	// 10.0.0.5 3306/tcp filtered no-response mysql, 1 flows from 1 clients
	// 10.0.0.5 8080/tcp closed   reset       webcache, 1 flows from 1 clients
}

// ExampleReadError shows where a damaged capture broke.
func ExampleReadError() {
	file, err := os.Open("../testdata/pcaps/truncated.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer file.Close()
	r, err := capture.NewReader(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		if _, err = r.Next(); err != nil {
			break
		}
	}
	fmt.Println(r.Packets(), "packets, then:", err)
	// Output:
	// 12 packets, then: packet 13 at byte offset 993: truncated capture: unexpected EOF
}
