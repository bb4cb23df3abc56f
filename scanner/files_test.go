package scanner

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/result"
)

// TestFilePlan checks the arithmetic of the descriptors a scan needs: the
// floor below which it refuses, and the workers and sockets above it.
func TestFilePlan(t *testing.T) {
	tests := []struct {
		name               string
		limit, open, procs int
		udp                bool
		need               int // > 0: refused, naming this many
		workers, sockets   int
	}{
		{"tcp floor", 11, 5, 2, false, 0, 1, 1},
		{"tcp below floor", 10, 5, 2, false, 11, 0, 0},
		{"udp floor", 12, 5, 2, true, 0, 1, 2},
		{"udp below floor", 11, 5, 2, true, 12, 0, 0},
		{"output files count", 14, 8, 2, true, 15, 0, 0},
		{"small limit, one worker", 40, 5, 8, false, 0, 1, 30},
		{"large limit, every cpu", 1024, 5, 2, false, 0, 2, 1012},
		{"at most eight workers", 1 << 20, 5, 64, false, 0, 8, 1<<20 - 5 - spareFiles - 16},
		{"nothing free", 5, 5, 1, false, 5 + spareFiles + workerFiles + 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newFilePlan(tt.limit, tt.open, tt.procs, tt.udp)
			if tt.need > 0 {
				var fe *FileLimitError
				if !errors.As(err, &fe) || !errors.Is(err, ErrFileLimit) || fe.Limit != tt.limit || fe.Need != tt.need {
					t.Fatalf("err = %v, want a FileLimitError for limit %d needing %d", err, tt.limit, tt.need)
				}
				return
			}
			if err != nil || p.workers != tt.workers || p.sockets != tt.sockets {
				t.Fatalf("plan = %+v, %v; want %d workers, %d sockets", p, err, tt.workers, tt.sockets)
			}
		})
	}
}

// scarceNet is a network with room for only room sockets at once: a dial
// beyond them fails as socket() does at the open-file limit.
type scarceNet struct {
	room    int32
	open    atomic.Int32
	refused atomic.Int32
	mu      sync.Mutex
	maxOpen int32
}

func (s *scarceNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if n := s.open.Add(1); n > s.room {
		s.open.Add(-1)
		s.refused.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("socket", syscall.EMFILE)}
	} else {
		s.mu.Lock()
		s.maxOpen = max(s.maxOpen, n)
		s.mu.Unlock()
	}
	defer s.open.Add(-1)
	time.Sleep(time.Millisecond) // the handshake
	return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// TestFileLimitOneSocket runs a scan on a system with room for one socket:
// the engine must come down to one probe in flight and wait for it,
// rather than send probe after probe into EMFILE.
func TestFileLimitOneSocket(t *testing.T) {
	s := &scarceNet{room: 1}
	cfg := Config{Ports: portSet(t, "1-300"), Dial: s.dial, SkipDiscovery: true, Seed: 1, Concurrency: 8}
	res, hosts, st := collect(t, cfg, addrs("192.0.2.1"))
	if len(res) != 300 || len(hosts) != 1 || st.Probes != 300 {
		t.Fatalf("%d results, %d hosts, %d probes; want 300, 1, 300", len(res), len(hosts), st.Probes)
	}
	for k, r := range res {
		if r.State != result.Closed {
			t.Errorf("%s = %v (%s), want closed", k, r.State, r.Reason)
		}
	}
	// The first burst of 8 brings the concurrency down to 1; each climb back
	// (after 64 probes) costs one more.
	if n := s.refused.Load(); n > 20 {
		t.Errorf("%d dials refused for want of descriptors; the engine kept sending into EMFILE", n)
	}
}

// TestFileLimitNeverFree gives the engine a system where no socket can
// ever be opened: it must give up with an error, not retry for ever.
func TestFileLimitNeverFree(t *testing.T) {
	var tick atomic.Int64
	start := time.Now()
	cfg := Config{
		Ports:         portSet(t, "1-10"),
		SkipDiscovery: true,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("socket", syscall.EMFILE)}
		},
		// Each look at the clock is a second later: the give-up comes
		// after a few rounds, without waiting for it.
		Now: func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) },
	}
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), cfg, addrs("192.0.2.1"), result.Funcs{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNoSockets) || !errors.Is(err, syscall.EMFILE) {
			t.Fatalf("err = %v, want ErrNoSockets wrapping EMFILE", err)
		}
		t.Log(err)
	case <-time.After(30 * time.Second):
		t.Fatal("the scan still runs after 30s with no socket to be had")
	}
}
