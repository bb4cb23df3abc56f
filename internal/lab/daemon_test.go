package lab_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"golang.org/x/sys/unix"
)

func TestWriteSelfSigned(t *testing.T) {
	files, err := lab.WriteSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignatureFrom(leaf); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("::1"); err != nil {
		t.Error(err)
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.Errorf("not valid now: %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	if fi, err := os.Stat(files.Key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v, %v", fi.Mode(), err)
	}
}

func TestDaemonAvailableUnknown(t *testing.T) {
	if err := lab.DaemonAvailable("gopher"); !errors.Is(err, lab.ErrDaemon) {
		t.Errorf("DaemonAvailable(gopher) = %v, want ErrDaemon", err)
	}
}

// TestStartDaemonStops starts Redis and stunnel around it, talks to
// Redis through the TLS, and checks that once the test that started
// them is over, nothing of theirs is left: the leaders were waited for,
// so their pids are gone.
func TestStartDaemonStops(t *testing.T) {
	ns := lab.NewNamespace(t, "daemon")
	var pids []int
	t.Run("run", func(t *testing.T) {
		redis := netip.MustParseAddrPort("127.0.0.1:6379")
		rs := lab.StartDaemons(t, ns,
			lab.Daemon{Kind: lab.Redis, Addr: redis},
			lab.Daemon{Kind: lab.Stunnel, Addr: netip.MustParseAddrPort("127.0.0.1:8443"), Backend: redis})
		for _, r := range rs {
			pids = append(pids, r.PID)
			if r.Version == "" {
				t.Errorf("%v: no version", r)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := ns.DialContext(ctx, "tcp", "127.0.0.1:8443")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := tc.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("PING through stunnel: %q, %v", line, err)
		}
	})
	if left := ns.Pids(); len(left) > 0 {
		t.Errorf("processes left in the namespace: %v", left)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
			t.Errorf("daemon %d still running: %v", pid, err)
		}
	}
	if slices.Contains(pids, 0) {
		t.Errorf("a daemon without a pid: %v", pids)
	}
}

// TestStartDaemonsIPv6 starts every kind of daemon on ::1 (the
// detection lab has them on 127.0.0.1) and checks that each listens
// there and nowhere else.
func TestStartDaemonsIPv6(t *testing.T) {
	ns := lab.NewNamespace(t, "daemons6")
	ns.ExpectEmptyAtCleanup()
	at := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv6Loopback(), port) }
	ds := []lab.Daemon{
		{Kind: lab.SSHD, Addr: at(22)},
		{Kind: lab.Nginx, Addr: at(443), TLS: true},
		{Kind: lab.VSFTPD, Addr: at(21)},
		{Kind: lab.Redis, Addr: at(6379)},
		{Kind: lab.Memcached, Addr: at(11211)},
		{Kind: lab.Mosquitto, Addr: at(1883)},
		{Kind: lab.PostgreSQL, Addr: at(5432)},
		{Kind: lab.MariaDB, Addr: at(3306)},
		{Kind: lab.Rsync, Addr: at(873)},
		{Kind: lab.Stunnel, Addr: at(8443), Backend: at(6379)},
		{Kind: lab.Dnsmasq, Addr: at(53)},
		{Kind: lab.Exim, Addr: at(25)},
		{Kind: lab.DovecotIMAP, Addr: at(143)},
		{Kind: lab.DovecotPOP3, Addr: at(110)},
	}
	lab.StartDaemons(t, ns, ds...)
	listening := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(ns.MustRun("ss", "-Hltun")), "\n") {
		if f := strings.Fields(line); len(f) >= 5 {
			listening[f[4]] = true
			if !strings.HasPrefix(f[4], "[::1]:") {
				t.Errorf("listening beyond ::1: %s", line)
			}
		}
	}
	for _, d := range ds {
		if !listening[d.Addr.String()] {
			t.Errorf("%v: not listening", d)
		}
	}
}
