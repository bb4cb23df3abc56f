// Command record sends a detection probe to a daemon on 127.0.0.1 and
// writes what it answers, for the golden tests of package detect. It is
// run by detect/testdata/record-probes.sh inside a network namespace
// that has only a loopback interface; it refuses any other address.
//
//	record -proto redis -addr 127.0.0.1:6379 -out testdata/redis/7.0.bin
//	record -proto https -tls -addr 127.0.0.1:443 -out a.bin -hello h.req.bin -serverhello h.bin
//	record -udp -addr 127.0.0.1:53 -out testdata/udp/53-dnsmasq
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/payload"
)

// Seed is the payload seed the UDP recordings are made with; the golden
// test of detect.UDP builds its probes with the same one.
const Seed = 1

func main() {
	proto := flag.String("proto", "", "registered protocol whose probe is sent")
	addr := flag.String("addr", "", "127.0.0.1:port to send it to")
	out := flag.String("out", "", "file the answer is written to (for -udp: a prefix)")
	host := flag.String("host", "", "name given to the probe")
	useTLS := flag.Bool("tls", false, "speak TLS first")
	hello := flag.String("hello", "", "with -tls: file for the ClientHello")
	serverHello := flag.String("serverhello", "", "with -tls: file for the server's first flight")
	udp := flag.Bool("udp", false, "send the port's payload probes over UDP")
	flag.Parse()
	if err := run(*proto, *addr, *out, *host, *useTLS, *hello, *serverHello, *udp); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func run(proto, addr, out, host string, useTLS bool, hello, serverHello string, udp bool) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("%q: only loopback addresses are recorded", addr)
	}
	if udp {
		return recordUDP(ap, out)
	}
	p := detect.Lookup(proto)
	if p == nil || p.Probe == nil {
		return fmt.Errorf("no probe for %q", proto)
	}
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	var conn net.Conn = c
	if useTLS {
		tap := &tapConn{Conn: c}
		tc := tls.Client(tap, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"http/1.1"}})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			return err
		}
		if err := os.WriteFile(hello, tap.firstWrite, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(serverHello, tap.read.Bytes(), 0o644); err != nil {
			return err
		}
		conn = tc
	}
	if _, err := conn.Write(p.Probe(host)); err != nil {
		return err
	}
	got := readAnswer(conn)
	if len(got) == 0 {
		return fmt.Errorf("%s: no answer", addr)
	}
	return os.WriteFile(out, got, 0o644)
}

// readAnswer reads until the peer closes, 64 KiB, or half a second of
// silence after the first bytes (3 s before them).
func readAnswer(c net.Conn) []byte {
	var got []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(3 * time.Second)
	for len(got) < 64<<10 {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
		deadline = time.Now().Add(500 * time.Millisecond)
	}
	return got
}

// tapConn keeps the first bytes written (the ClientHello) and those read
// during the handshake.
type tapConn struct {
	net.Conn
	firstWrite []byte
	read       bytes.Buffer
}

func (t *tapConn) Write(b []byte) (int, error) {
	if t.firstWrite == nil {
		t.firstWrite = bytes.Clone(b)
	}
	return t.Conn.Write(b)
}

func (t *tapConn) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	if t.read.Len() < 16<<10 {
		t.read.Write(b[:n])
	}
	return n, err
}

// recordUDP sends each payload probe of the port and writes each reply
// to out-<probe>.bin.
func recordUDP(ap netip.AddrPort, out string) error {
	probes := payload.For(ap.Port(), Seed)
	if len(probes) == 0 {
		return fmt.Errorf("no payload for port %d", ap.Port())
	}
	n := 0
	for _, p := range probes {
		c, err := net.Dial("udp", ap.String())
		if err != nil {
			return err
		}
		c.Write(p.Payload)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 65536)
		k, err := c.Read(buf)
		c.Close()
		if err != nil {
			if err == io.EOF || os.IsTimeout(err) {
				continue
			}
			fmt.Fprintf(os.Stderr, "record: %s: %v\n", p.Name, err)
			continue
		}
		if err := os.WriteFile(out+"-"+p.Name+".bin", buf[:k], 0o644); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no probe answered", ap)
	}
	return nil
}
