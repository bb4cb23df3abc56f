// Command grab connects to a TCP address, writes nothing, and copies to
// stdout what the server sends first: until it has been silent for
// -idle, has sent -max bytes, or closes. record.sh runs it inside its
// own network namespace to record greetings.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:22", "address to connect to")
	local := flag.String("local", "", "local address to connect from")
	idle := flag.Duration("idle", time.Second, "stop after this long without data")
	wait := flag.Duration("wait", 15*time.Second, "how long to retry while the server starts")
	max := flag.Int("max", 4096, "stop after this many bytes")
	flag.Parse()

	d := net.Dialer{Timeout: time.Second}
	if *local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*local)}
	}
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(*wait); ; time.Sleep(100 * time.Millisecond) {
		conn, err = d.Dial("tcp", *addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grab:", err)
		os.Exit(1)
	}
	defer conn.Close()
	var got []byte
	buf := make([]byte, *max)
	start := time.Now()
	for len(got) < *max {
		conn.SetReadDeadline(time.Now().Add(*idle))
		n, err := conn.Read(buf[:*max-len(got)])
		got = append(got, buf[:n]...)
		var ne net.Error
		if err != nil {
			if errors.As(err, &ne) && ne.Timeout() && len(got) == 0 && time.Since(start) < 10*time.Second {
				continue // nothing yet: the server may be slow to greet
			}
			break
		}
	}
	if len(got) == 0 {
		fmt.Fprintln(os.Stderr, "grab: the server sent nothing")
		os.Exit(1)
	}
	os.Stdout.Write(got)
}
