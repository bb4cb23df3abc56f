package capture_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

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

// Example_detection prints the services a capture's bytes name: the
// server's greeting on an unusual port, an answer to a request, a TLS
// handshake and its certificate, a UDP reply, and a flow already under
// way when the capture began, whose bytes told its server.
func Example_detection() {
	_, err := capture.Analyze(context.Background(),
		[]capture.Source{capture.File("../testdata/pcaps/detect.pcap")},
		capture.AnalyzeOptions{Options: capture.Options{Label: services.Default().Lookup}},
		result.Funcs{OnPort: func(r result.Port) {
			d := r.Detected
			if d == nil {
				return
			}
			name := d.Name
			if d.Tunnel != "" {
				name = d.Tunnel + "/" + name
			}
			line := []string{r.Host.String(), r.Port.String(), r.Reason, name}
			for _, s := range []string{d.Product, d.Version, d.Info} {
				if s != "" {
					line = append(line, s)
				}
			}
			fmt.Println(strings.Join(line, " "))
			if t := d.TLS; t != nil {
				fmt.Printf("  %s %s, SNI %s", t.Version, t.Cipher, t.SNI)
				if t.Subject != "" {
					fmt.Printf(", %s, issuer %s, self-signed %v, until %s", t.Subject, t.Issuer, t.SelfSigned, t.NotAfter.Format("2006-01-02"))
				}
				fmt.Println()
			}
		}})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 10.5.0.5 2222/tcp syn-ack ssh OpenSSH 9.2p1 Debian 2+deb12u3; protocol 2.0
	// 10.5.0.5 7777/tcp syn-ack redis Redis key-value store 7.0.15
	// 10.5.0.5 8000/tcp syn-ack http SimpleHTTPServer 0.6 Python 3.11.2
	// 10.5.0.5 9443/tcp syn-ack ssl/http
	//   TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, SNI localhost, CN=localhost,O=portscan lab, issuer CN=localhost,O=portscan lab, self-signed true, until 2034-01-01
	// 10.5.0.6 443/tcp syn-ack ssl/http
	//   TLS 1.3 TLS_AES_128_GCM_SHA256, SNI localhost
	// 10.5.0.7 50123/tcp mid-stream http nginx 1.22.1
	// 10.5.0.53 53/udp udp-response domain
}
