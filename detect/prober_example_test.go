package detect_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// A port a scan found open is asked what it is: this one greets as an
// SSH server does.
func ExampleConfig_Detect() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
			c.Close()
		}
	}()
	ap := netip.MustParseAddrPort(ln.Addr().String())
	p := result.Port{Host: ap.Addr(), Port: ports.Port{Number: ap.Port(), Proto: ports.TCP}, State: result.Open}

	var cfg detect.Config // the defaults
	svc := cfg.Detect(context.Background(), p)
	fmt.Println(svc.Name, svc.Product, svc.Version, svc.Method)
	fmt.Println(svc.Info)
	// Output:
	// ssh OpenSSH 9.2p1 probe
	// Debian 2+deb12u3; protocol 2.0
}

// NewSink sits between a producer (the scanner) and the writers: ports
// that are not open pass at once, open ones once detected, and a host's
// record after its ports.
func ExampleNewSink() {
	out := result.Funcs{
		OnPort: func(p result.Port) { fmt.Println(p.Port, p.State, p.Detected != nil) },
		OnHost: func(h result.Host) { fmt.Println("host", h.Addr) },
	}
	sink := detect.NewSink(context.Background(), detect.Config{}, out)
	addr := netip.MustParseAddr("127.0.0.1")
	sink.Port(result.Port{Host: addr, Port: ports.Port{Number: 1, Proto: ports.TCP}, State: result.Closed})
	sink.Host(result.Host{Addr: addr})
	sink.End(result.Summary{})
	// Output:
	// 1/tcp closed false
	// host 127.0.0.1
}
