package capture_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// Example reads a capture and prints what its traffic shows of each
// server port.
func Example() {
	_, err := capture.Analyze(context.Background(),
		[]capture.Source{capture.File("../testdata/pcaps/tcp-ethernet.pcap")},
		capture.AnalyzeOptions{Options: capture.Options{Label: services.Default().Lookup}},
		result.Funcs{OnPort: func(r result.Port) {
			fmt.Printf("%s %-8s %-8s %-11s %s, %d flows from %d clients\n",
				r.Host, r.Port, r.State, r.Reason, r.Service.Name, r.Evidence.Flows, r.Evidence.Clients)
		}})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 10.0.0.5 22/tcp   open     mid-stream  ssh, 1 flows from 1 clients
	// 10.0.0.5 80/tcp   open     syn-ack     http, 2 flows from 2 clients
	// 10.0.0.5 3306/tcp filtered no-response mysql, 1 flows from 1 clients
	// 10.0.0.5 8080/tcp closed   reset       webcache, 1 flows from 1 clients
}

// ExampleAnalyze reads two files as one capture, the first of them cut
// short: its packets up to the damage count, and the second is still
// read.
func ExampleAnalyze() {
	st, err := capture.Analyze(context.Background(),
		[]capture.Source{capture.File("../testdata/pcaps/truncated.pcap"), capture.File("../testdata/pcaps/udp-vlan.pcap")},
		capture.AnalyzeOptions{}, result.Funcs{})
	var re *capture.ReadError
	if errors.As(err, &re) {
		fmt.Println(err)
		fmt.Println(re.Packet-1, "packets of it are analysed")
	}
	c := st.Summary.Capture
	fmt.Println(st.Sources, "files,", c.Packets, "packets,", st.Summary.HostsUp, "hosts,", st.Summary.Open, "open ports")
	// Output:
	// ../testdata/pcaps/truncated.pcap: packet 13 at byte offset 993: truncated capture: unexpected EOF
	// 12 packets of it are analysed
	// 2 files, 20 packets, 3 hosts, 2 open ports
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
