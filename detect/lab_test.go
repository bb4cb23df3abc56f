package detect_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/result"
)

// TestLabDaemons names every service of the detection lab, real Debian
// daemons in a namespace, with the registry's matchers: a greeting
// first, else the first probe of ByPort whose Match takes its answer,
// inside TLS where the service speaks TLS. Name, product and version must be those the lab
// expects; the version is what the daemon's own program reports.
func TestLabDaemons(t *testing.T) {
	start := time.Now()
	ns, services := lab.StartDetectionLab(t)
	t.Logf("%d services up in %v", len(services), time.Since(start).Round(time.Millisecond))
	// Every daemon listens on the namespace's loopback only.
	out := ns.MustRun("ss", "-Hltun")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		local := f[4]
		if !strings.HasPrefix(local, "127.0.0.1:") && !strings.HasPrefix(local, "[::1]:") {
			t.Errorf("a socket listens beyond loopback: %s", line)
		}
	}
	// Every service at once: most of the time goes in waiting for
	// answers that never come (a probe of another protocol), which
	// t.Parallel would serialise on a machine of few CPUs.
	type found struct {
		svc result.Service
		err error
	}
	got := make([]found, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			got[i].svc, got[i].err = identify(ns, s)
		})
	}
	wg.Wait()
	for i, s := range services {
		t.Run(s.String(), func(t *testing.T) {
			g := got[i].svc
			if got[i].err != nil {
				t.Fatal(got[i].err)
			}
			t.Logf("%s: %s %q %q %q", s.Addr, fullName(g), g.Product, g.Version, g.Info)
			if fullName(g) != s.FullName() {
				t.Errorf("name %q, want %q", fullName(g), s.FullName())
			}
			if s.Product != "" && g.Product != s.Product {
				t.Errorf("product %q, want %q", g.Product, s.Product)
			}
			if s.Version != "" && g.Version != s.Version {
				t.Errorf("version %q, want %q (what the daemon's program reports)", g.Version, s.Version)
			}
		})
	}
}

func fullName(s result.Service) string {
	if s.Tunnel != "" {
		return s.Tunnel + "/" + s.Name
	}
	return s.Name
}

// How long to wait for a greeting (a server that speaks first does so
// at once) and for an answer to a probe: long enough for a loaded CI
// machine, short enough that the probes a server never answers (Redis
// waits for a newline that a binary probe lacks) add up to seconds.
const (
	greetWait  = time.Second
	answerWait = time.Second
)

// identify names the service at s: the greeting it sends unasked, or
// else its answer to the first probe of ByPort whose Match takes it.
// The greeting is read alone first: sshd drops connections beyond ten
// unauthenticated ones, and MariaDB counts aborted handshakes.
func identify(ns *lab.Namespace, s lab.DetectService) (result.Service, error) {
	port := s.Addr.Port()
	got, err := exchange(ns, s, nil, greetWait, func(b []byte) (bool, bool) {
		_, ok, more := detect.Greeting(port, b)
		return ok, more
	})
	if err != nil {
		return result.Service{}, err
	}
	if svc, ok, _ := detect.Greeting(port, got); ok {
		return tunnel(svc, s), nil
	}
	if len(got) > 0 {
		return result.Service{}, errors.New("a greeting no matcher names: " + quote(got))
	}
	// Each probe on a connection of its own, all at once; the first
	// match in ByPort's order names the service, as if they had been
	// sent one after the other.
	var probes []*detect.Protocol
	for p := range detect.ByPort(port) {
		if p.Probe != nil && p.Match != nil {
			probes = append(probes, p)
		}
	}
	answers := make([][]byte, len(probes))
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			answers[i], errs[i] = exchange(ns, s, p.Probe(""), answerWait, func(b []byte) (bool, bool) {
				_, ok, more := p.Match(b)
				return ok, more
			})
		})
	}
	wg.Wait()
	var tried []string
	for i, p := range probes {
		if errs[i] != nil {
			return result.Service{}, fmt.Errorf("probe %s: %w", p.Name, errs[i])
		}
		if svc, ok, _ := p.Match(answers[i]); ok {
			return tunnel(svc, s), nil
		}
		tried = append(tried, p.Name+": "+quote(answers[i]))
	}
	return result.Service{}, errors.New("no probe's answer matched:\n" + strings.Join(tried, "\n"))
}

func tunnel(svc result.Service, s lab.DetectService) result.Service {
	if s.TLS {
		svc.Tunnel = "ssl"
	}
	return svc
}

func quote(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
}

// exchange connects to s from inside the namespace (handshaking TLS
// first when s speaks it), sends probe, if any, and reads until done
// says the bytes are decided (ok, or no more could tell), the server
// closes, or wait passes. A silent server is no error.
func exchange(ns *lab.Namespace, s lab.DetectService, probe []byte, wait time.Duration,
	done func([]byte) (ok, more bool)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ns.DialContext(ctx, "tcp", s.Addr.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if s.TLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		c = tc
	}
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	if len(probe) > 0 {
		if _, err := c.Write(probe); err != nil {
			return nil, err
		}
	}
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < 1<<20 {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if n > 0 {
			if ok, more := done(got); ok || !more {
				return got, nil
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF) || isReset(err) {
				return got, nil
			}
			return got, err
		}
	}
	return got, nil
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
