package capture

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// listenIn opens a listener inside the namespace, closed at cleanup.
func listenIn(t *testing.T, ns *lab.Namespace, network, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen(network, addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serve answers each connection of ln with answer, in a goroutine.
func serve(ln net.Listener, answer func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				answer(c)
			}()
		}
	}()
}

// labHTTP starts Python's http.server on 8081 and fetches its index.
func labHTTP(t *testing.T, ns *lab.Namespace, want map[string][]string) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("python3 not installed: no HTTP server")
		return
	}
	ns.Start("python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", t.TempDir(), "8081")
	c := dial(t, ns, "tcp", "127.0.0.1:8081")
	io.WriteString(c, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
	io.Copy(io.Discard, c)
	c.Close()
	want["8081/tcp"] = []string{"open http [capture", `product "SimpleHTTPServer"`}
}

// labSSH starts OpenSSH's sshd on 2222, when installed, and reads its
// identification.
func labSSH(t *testing.T, ns *lab.Namespace, want map[string][]string) {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		t.Log("sshd not installed: no SSH server")
		return
	}
	key := filepath.Join(t.TempDir(), "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Logf("ssh-keygen: %v: %s; no SSH server", err, out)
		return
	}
	ns.MustRun("mkdir", "-p", "/run/sshd")
	ns.Start(sshd, "-D", "-e", "-f", "/dev/null", "-h", key, "-p", "2222", "-o", "ListenAddress=127.0.0.1")
	c := dial(t, ns, "tcp", "127.0.0.1:2222")
	buf := make([]byte, 256)
	c.Read(buf)
	io.WriteString(c, "SSH-2.0-portscan_lab\r\n")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	want["2222/tcp"] = []string{"open ssh [capture", `product "OpenSSH"`}
}

// labTLS starts a TLS 1.2 server on 9443 whose certificate a CA of the
// test's signed, and makes a handshake with SNI localhost.
func labTLS(t *testing.T, ns *lab.Namespace, want map[string][]string) {
	cert := caSigned(t)
	ln := tls.NewListener(listenIn(t, ns, "tcp", "127.0.0.1:9443"),
		&tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	serve(ln, func(c net.Conn) {
		buf := make([]byte, 64)
		c.Read(buf)
		io.WriteString(c, "ok\n")
	})
	c := tls.Client(dial(t, ns, "tcp", "127.0.0.1:9443"), &tls.Config{ServerName: "localhost", InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "hello\n")
	io.Copy(io.Discard, c)
	c.Close()
	want["9443/tcp"] = []string{"open ssl [capture", `tls TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 alpn "" sni "localhost"`,
		`cert subject "CN=localhost,O=portscan lab" issuer "CN=portscan lab CA" sans ["localhost"]`, "self-signed false, chain 2"}
}

// caSigned makes a CA and a certificate for localhost it signs: a chain
// of two.
func caSigned(t *testing.T) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portscan lab CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost", Organization: []string{"portscan lab"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// labRedis starts a server on 7777 that answers INFO as Redis does.
func labRedis(t *testing.T, ns *lab.Namespace, want map[string][]string) {
	serve(listenIn(t, ns, "tcp", "127.0.0.1:7777"), func(c net.Conn) {
		buf := make([]byte, 256)
		c.Read(buf)
		info := "# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n"
		io.WriteString(c, "$"+itoa(len(info))+"\r\n"+info+"\r\n")
	})
	c := dial(t, ns, "tcp", "127.0.0.1:7777")
	io.WriteString(c, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
	buf := make([]byte, 256)
	c.Read(buf)
	c.Close()
	want["7777/tcp"] = []string{"open redis [capture", `product "Redis key-value store", version "7.2.4"`}
}

// labDNS answers one DNS query on 53/udp.
func labDNS(t *testing.T, ns *lab.Namespace, want map[string][]string) {
	var pc net.PacketConn
	if err := ns.Do(func() (err error) { pc, err = net.ListenPacket("udp", "127.0.0.1:53"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		n, from, err := pc.ReadFrom(buf)
		if err != nil || n < 12 {
			return
		}
		q := buf[:n]
		answer := append(append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}, q[12:]...),
			0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 127, 0, 0, 1)
		pc.WriteTo(answer, from)
	}()
	c := dial(t, ns, "udp", "127.0.0.1:53")
	c.Write([]byte("\x4c\x0a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09localhost\x00\x00\x01\x00\x01"))
	buf := make([]byte, 512)
	c.Read(buf)
	c.Close()
	want["53/udp"] = []string{"open domain [capture confirmed]"}
}
