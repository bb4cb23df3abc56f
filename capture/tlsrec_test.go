package capture

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/golden"
)

// recordTLS records the TLS handshakes of testdata/tls again. They are
// kept, not made by every run, since no two handshakes are alike and the
// fixtures made from them must be.
var recordTLS = flag.Bool("record-tls", false, "record the TLS handshakes under testdata/tls again")

// chunk is what one side wrote at once: client (false) or server (true).
type chunk struct {
	server bool
	data   []byte
}

// tlsRecordings are the handshakes recorded, by file name, with the
// highest version each allows.
var tlsRecordings = map[string]uint16{"tls12.txt": tls.VersionTLS12, "tls13.txt": tls.VersionTLS13}

// TestRecordTLS records, under -record-tls, a handshake between
// crypto/tls's client and server over net.Pipe, with a self-signed
// certificate for localhost made here, and one request and answer after
// it; without the flag it checks that the recordings read.
func TestRecordTLS(t *testing.T) {
	for name, version := range tlsRecordings {
		path := filepath.Join("testdata", "tls", name)
		if *recordTLS {
			golden.Write(t, path, []byte(formatChunks(recordTLSHandshake(t, version))))
		}
		if cs := readChunks(t, name); len(cs) < 3 {
			t.Errorf("%s: %d chunks", path, len(cs))
		}
	}
}

// selfSigned makes a certificate for localhost and 127.0.0.1, valid
// for ten years from 2024.
func selfSigned(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2024),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"portscan lab"}},
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{netip.MustParseAddr("127.0.0.1").AsSlice()},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// recorder conns log every write of both ends, in order.
type chunkLog struct {
	mu     sync.Mutex
	chunks []chunk
}

type loggedConn struct {
	net.Conn
	log    *chunkLog
	server bool
}

func (c *loggedConn) Write(b []byte) (int, error) {
	c.log.mu.Lock()
	c.log.chunks = append(c.log.chunks, chunk{c.server, bytes.Clone(b)})
	c.log.mu.Unlock()
	return c.Conn.Write(b)
}

func recordTLSHandshake(t *testing.T, version uint16) []chunk {
	t.Helper()
	cert := selfSigned(t, "localhost")
	a, b := net.Pipe()
	var log chunkLog
	srv := tls.Server(&loggedConn{b, &log, true}, &tls.Config{Certificates: []tls.Certificate{cert},
		MaxVersion: version, NextProtos: []string{"http/1.1"}})
	cli := tls.Client(&loggedConn{a, &log, false}, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true,
		MaxVersion: version, NextProtos: []string{"http/1.1"}})
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := srv.Read(buf)
		if err == nil {
			_, err = srv.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
		}
		_ = n
		srv.Close()
		done <- err
	}()
	if _, err := cli.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, cli)
	cli.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	return log.chunks
}

// formatChunks writes one chunk a line: "client HEX" or "server HEX".
func formatChunks(cs []chunk) string {
	var b strings.Builder
	for _, c := range cs {
		who := "client"
		if c.server {
			who = "server"
		}
		fmt.Fprintf(&b, "%s %x\n", who, c.data)
	}
	return b.String()
}

func readChunks(t testing.TB, name string) []chunk {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "tls", name))
	if err != nil {
		t.Fatalf("%v (go test ./capture -run TestRecordTLS -record-tls makes it)", err)
	}
	defer f.Close()
	var cs []chunk
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		who, h, _ := strings.Cut(sc.Text(), " ")
		data, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, chunk{who == "server", data})
	}
	return cs
}
