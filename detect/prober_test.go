package detect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// listen starts a TCP listener on loopback that runs serve on each
// connection, and closes it when the test ends.
func listen(t *testing.T, serve func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				stop := context.AfterFunc(ctxOf(done), func() { c.Close() })
				defer stop()
				serve(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// ctxOf is a context that ends when done is closed.
func ctxOf(done <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	return ctx
}

// redirect is a Dial that connects to the server at to, whatever port
// is asked: a test names the port (80, 443, 22) whose usual protocols
// it wants tried first, and the server listens where it can.
func redirect(to netip.AddrPort) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, to.String())
	}
}

// open is what a scan reports of an open TCP port of ap (number 0:
// ap's own port).
func open(ap netip.AddrPort, number uint16) result.Port {
	if number == 0 {
		number = ap.Port()
	}
	return result.Port{
		Host: ap.Addr(), Port: ports.Port{Number: number, Proto: ports.TCP},
		State: result.Open, Reason: result.ReasonSynAck, RTT: 50 * time.Microsecond,
	}
}

// greeter serves a greeting, then reads until the client goes.
func greeter(greeting string) func(net.Conn) {
	return func(c net.Conn) {
		io.WriteString(c, greeting)
		io.Copy(io.Discard, c)
	}
}

// silent reads everything and says nothing.
func silent(c net.Conn) { io.Copy(io.Discard, c) }

func detectOne(t *testing.T, cfg Config, p result.Port) *result.Service {
	t.Helper()
	svc := cfg.Detect(context.Background(), p)
	if svc == nil {
		t.Fatalf("Detect(%v) = nil", p.Port)
	}
	if want := result.MethodProbe; svc.Method != want && (cfg.ServiceProbes == nil || svc.Method != result.MethodServiceProbe) {
		t.Errorf("Method = %q, want %q", svc.Method, want)
	}
	if !utf8.ValidString(svc.Banner) || strings.ContainsAny(svc.Banner, "\r\n\x00\x1b") {
		t.Errorf("Banner %q is not sanitised", svc.Banner)
	}
	return svc
}

func TestDetectPlain(t *testing.T) {
	sshd := listen(t, greeter("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"))
	slow := listen(t, func(c net.Conn) {
		// A greeting in pieces, the last one late: read while the
		// matcher asks for more.
		io.WriteString(c, "SSH-2.0-Open")
		time.Sleep(100 * time.Millisecond)
		io.WriteString(c, "SSH_9.2p1\r\n")
		io.Copy(io.Discard, c)
	})
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.22.1")
		io.WriteString(w, "<html><title>lab</title></html>")
	}))
	web.Config.ErrorLog = log.New(io.Discard, "", 0)
	web.Start()
	t.Cleanup(web.Close)
	webAP := netip.MustParseAddrPort(web.Listener.Addr().String())
	ftpd := listen(t, greeter("220 (vsFTPd 3.0.3)\r\n"))
	// redis answers INFO server with a bulk string.
	redis := listen(t, func(c net.Conn) {
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		info := "# Server\r\nredis_version:7.0.15\r\n"
		fmt.Fprintf(c, "$%d\r\n%s\r\n", len(info), info)
		io.Copy(io.Discard, c)
	})
	tests := []struct {
		name                  string
		cfg                   Config
		port                  result.Port
		svc, product, version string
		info                  string
	}{
		{name: "ssh greeting", port: open(sshd, 0), svc: "ssh", product: "OpenSSH", version: "9.2p1", info: "Debian 2+deb12u3; protocol 2.0"},
		{name: "ssh slow greeting", port: open(slow, 0), svc: "ssh", product: "OpenSSH", version: "9.2p1"},
		{name: "http generic probe", port: open(webAP, 0), svc: "http", product: "nginx", version: "1.22.1", info: "title: lab"},
		// On 80 the probe goes at once: with a greeting wait as long as
		// the budget, waiting would leave no time for it.
		{name: "http on 80 skips the greeting wait", port: open(webAP, 80),
			cfg: Config{Dial: redirect(webAP), GreetWait: time.Hour, AnswerWait: 5 * time.Second, Timeout: 10 * time.Second},
			svc: "http", product: "nginx", version: "1.22.1"},
		{name: "ftp on 21", port: open(ftpd, 21), cfg: Config{Dial: redirect(ftpd)}, svc: "ftp", product: "vsftpd", version: "3.0.3"},
		{name: "redis probe first on 6379", port: open(redis, 6379), cfg: Config{Dial: redirect(redis)}, svc: "redis", product: "Redis key-value store", version: "7.0.15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := detectOne(t, tt.cfg, tt.port)
			if svc.Name != tt.svc || svc.Product != tt.product || svc.Version != tt.version {
				t.Fatalf("got %q %q %q (%+v), want %q %q %q", svc.Name, svc.Product, svc.Version, svc, tt.svc, tt.product, tt.version)
			}
			if tt.info != "" && svc.Info != tt.info {
				t.Errorf("Info = %q, want %q", svc.Info, tt.info)
			}
			if svc.Tunnel != "" || svc.TLS != nil {
				t.Errorf("Tunnel %q, TLS %+v in the clear", svc.Tunnel, svc.TLS)
			}
			if svc.Banner == "" {
				t.Error("no banner")
			}
		})
	}
}

func TestDetectUnknown(t *testing.T) {
	quiet := listen(t, silent)
	closer := listen(t, func(net.Conn) {})
	noise := listen(t, greeter("\x1b[31mhello\xff\x00 there\r\n"))
	tests := []struct {
		name   string
		port   result.Port
		banner string
	}{
		{name: "silent, within a small budget", port: open(quiet, 0)},
		{name: "closes at once", port: open(closer, 0)},
		{name: "unknown greeting, escaped", port: open(noise, 0), banner: `\x1b[31mhello\xff\x00 there\r\n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Timeout: 700 * time.Millisecond, GreetWait: 50 * time.Millisecond, AnswerWait: 100 * time.Millisecond}
			svc := detectOne(t, cfg, tt.port)
			if svc.Name != "" {
				t.Fatalf("named %q (%+v), want nothing", svc.Name, svc)
			}
			p := tt.port
			p.Detected = svc
			if p.Label() != result.LabelUnknown {
				t.Errorf("Label() = %q, want %q", p.Label(), result.LabelUnknown)
			}
			if svc.Banner != tt.banner {
				t.Errorf("Banner = %q, want %q", svc.Banner, tt.banner)
			}
		})
	}
}

// selfSignedCert makes a certificate for the tests' TLS servers.
func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "portscan test", Organization: []string{"portscan"}},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsServer serves TLS with cert on loopback, then inner inside; sni
// receives the server names clients asked for.
func tlsServer(t *testing.T, cert tls.Certificate, sni chan<- string, inner func(net.Conn)) netip.AddrPort {
	cfg := &tls.Config{
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			select {
			case sni <- h.ServerName:
			default:
			}
			return &cert, nil
		},
	}
	return listen(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		inner(tc)
	})
}

func TestDetectTLS(t *testing.T) {
	cert := selfSignedCert(t)
	sni := make(chan string, 64)
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Caddy")
	}))
	web.EnableHTTP2 = true
	web.Config.ErrorLog = log.New(io.Discard, "", 0)
	web.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	web.StartTLS()
	t.Cleanup(web.Close)
	webAP := netip.MustParseAddrPort(web.Listener.Addr().String())
	imaps := tlsServer(t, cert, sni, greeter("* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot (Debian) ready.\r\n"))
	quiet := tlsServer(t, cert, sni, silent)

	tests := []struct {
		name, hostname       string
		ap                   netip.AddrPort
		port                 uint16
		svc, tunnel, product string
		alpn                 string
	}{
		{name: "https on 443", ap: webAP, port: 443, svc: "http", tunnel: "ssl", product: "Caddy httpd", alpn: "h2"},
		{name: "https elsewhere", ap: webAP, svc: "http", tunnel: "ssl", product: "Caddy httpd", alpn: "h2"},
		{name: "imaps greeting inside, by name", ap: imaps, port: 993, hostname: "localhost", svc: "imap", tunnel: "ssl", product: "Dovecot imapd"},
		{name: "tls, silent inside", ap: quiet, svc: "ssl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := open(tt.ap, tt.port)
			p.Hostname = tt.hostname
			cfg := Config{Dial: redirect(tt.ap), Timeout: 3 * time.Second, GreetWait: 100 * time.Millisecond, AnswerWait: time.Second}
			svc := detectOne(t, cfg, p)
			if svc.Name != tt.svc || svc.Tunnel != tt.tunnel || svc.Product != tt.product {
				t.Fatalf("got %q/%q %q (%+v), want %q/%q %q", svc.Tunnel, svc.Name, svc.Product, svc, tt.tunnel, tt.svc, tt.product)
			}
			checkTLS(t, svc.TLS, tt.alpn, tt.hostname)
			if tt.hostname != "" && !sawSNI(sni, tt.hostname) {
				t.Errorf("server never asked for %q", tt.hostname)
			}
		})
	}
}

func checkTLS(t *testing.T, got *result.TLS, alpn, sni string) {
	t.Helper()
	if got == nil {
		t.Fatal("no TLS details")
	}
	want := result.TLS{
		Version: "TLS 1.3", ALPN: alpn, SNI: sni,
		Subject: "CN=portscan test,O=portscan", Issuer: "CN=portscan test,O=portscan",
		SANs:      []string{"localhost", "127.0.0.1"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		SelfSigned: true, ChainLength: 1,
	}
	if got.Version != want.Version || got.ALPN != want.ALPN || got.SNI != want.SNI ||
		got.Subject != want.Subject || got.Issuer != want.Issuer ||
		strings.Join(got.SANs, ",") != strings.Join(want.SANs, ",") ||
		!got.NotBefore.Equal(want.NotBefore) || !got.NotAfter.Equal(want.NotAfter) ||
		got.SelfSigned != want.SelfSigned || got.ChainLength != want.ChainLength {
		t.Errorf("TLS = %+v\nwant %+v", *got, want)
	}
	if !strings.HasPrefix(got.Cipher, "TLS_") {
		t.Errorf("Cipher = %q", got.Cipher)
	}
}

func sawSNI(sni <-chan string, name string) bool {
	for {
		select {
		case n := <-sni:
			if n == name {
				return true
			}
		default:
			return false
		}
	}
}

func TestDetectUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		// An NTP server: mode 4, stratum 2, the request's transmit
		// timestamp as the origin (RFC 5905 §8).
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			reply := make([]byte, 48)
			reply[0], reply[1] = 4<<3|4, 2
			copy(reply[24:32], buf[40:48])
			pc.WriteTo(reply, from)
		}
	}()
	ap := netip.MustParseAddrPort(pc.LocalAddr().String())
	p := result.Port{Host: ap.Addr(), Port: ports.Port{Number: 123, Proto: ports.UDP}, State: result.Open, Reason: "ntp-response origin match"}
	svc := detectOne(t, Config{Dial: redirect(ap)}, p)
	if svc.Name != "ntp" || svc.Info != "NTP v4, stratum 2" || svc.Confidence != 10 {
		t.Errorf("got %+v, want ntp, NTP v4, stratum 2, confidence 10", svc)
	}

	// Silent now: named from the scan's reason.
	quiet, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { quiet.Close() })
	qap := netip.MustParseAddrPort(quiet.LocalAddr().String())
	svc = detectOne(t, Config{Dial: redirect(qap), AnswerWait: 50 * time.Millisecond}, p)
	if svc.Name != "ntp" || svc.Confidence != 3 {
		t.Errorf("silent port: got %+v, want ntp from the reason, confidence 3", svc)
	}
}

func TestDetectSkips(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:9")
	for _, p := range []result.Port{
		{Host: ap.Addr(), Port: ports.Port{Number: 9, Proto: ports.TCP}, State: result.Closed},
		{Host: ap.Addr(), Port: ports.Port{Number: 9, Proto: ports.UDP}, State: result.OpenFiltered},
	} {
		if svc := (&Config{}).Detect(context.Background(), p); svc != nil {
			t.Errorf("Detect(%v %v) = %+v, want nil", p.Port, p.State, svc)
		}
	}
}
