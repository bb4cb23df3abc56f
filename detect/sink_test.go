package detect

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// counting is a Dial that counts the connections open at once.
type counting struct {
	to        netip.AddrPort
	open, max atomic.Int64
	dials     atomic.Int64
}

func (c *counting) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, c.to.String())
	if err != nil {
		return nil, err
	}
	c.dials.Add(1)
	n := c.open.Add(1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
	return &countedConn{Conn: conn, c: c}, nil
}

type countedConn struct {
	net.Conn
	c    *counting
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() { cc.c.open.Add(-1) })
	return cc.Conn.Close()
}

// recorder keeps the events a sink is given, in order.
type recorder struct {
	mu     sync.Mutex
	events []any
}

func (r *recorder) add(e any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) Begin(i result.Info) error { return r.add(i) }
func (r *recorder) Port(p result.Port) error  { return r.add(p) }
func (r *recorder) Host(h result.Host) error  { return r.add(h) }
func (r *recorder) End(s result.Summary) error {
	return r.add(s)
}

// scan feeds sink what a scan of hosts hosts with the given ports would
// emit: each host's ports, then its Host event.
func scan(t *testing.T, sink result.Sink, hosts int, portsOf func(addr netip.Addr) []result.Port) {
	t.Helper()
	if err := sink.Begin(result.Info{}); err != nil {
		t.Fatal(err)
	}
	for i := range hosts {
		addr := netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)})
		for _, p := range portsOf(addr) {
			if err := sink.Port(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := sink.Host(result.Host{Addr: addr, Up: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.End(result.Summary{}); err != nil {
		t.Fatal(err)
	}
}

func TestSinkBoundAndOrder(t *testing.T) {
	// A server that greets late: every detection holds its connection
	// a while, so that many would be open at once without the bound.
	sshd := listen(t, func(c net.Conn) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1\r\n")
		io.Copy(io.Discard, c)
	})
	dial := &counting{to: sshd}
	const bound, hosts = 3, 8
	rec := &recorder{}
	cfg := Config{Dial: dial.dial, Concurrency: bound, Queue: 2}
	scan(t, NewSink(context.Background(), cfg, rec), hosts, func(addr netip.Addr) []result.Port {
		return []result.Port{
			{Host: addr, Port: ports.Port{Number: 22, Proto: ports.TCP}, State: result.Open},
			{Host: addr, Port: ports.Port{Number: 23, Proto: ports.TCP}, State: result.Closed},
			{Host: addr, Port: ports.Port{Number: 2222, Proto: ports.TCP}, State: result.Open},
		}
	})
	if m := dial.max.Load(); m > bound || m < 1 {
		t.Errorf("%d connections open at once, bound %d", m, bound)
	}
	if n := dial.open.Load(); n != 0 {
		t.Errorf("%d connections left open", n)
	}
	checkOrder(t, rec.events, hosts, 3)
}

// checkOrder checks that every host's Host event follows its ports,
// each open port detected as ssh, and that End comes last.
func checkOrder(t *testing.T, events []any, hosts, portsPer int) {
	t.Helper()
	seen := map[netip.Addr]int{}
	done := map[netip.Addr]bool{}
	for i, e := range events {
		switch e := e.(type) {
		case result.Port:
			if done[e.Host] {
				t.Errorf("event %d: port %v of %v after its host", i, e.Port, e.Host)
			}
			seen[e.Host]++
			if e.State == result.Open && (e.Detected == nil || e.Detected.Name != "ssh") {
				t.Errorf("port %v of %v: Detected = %+v, want ssh", e.Port, e.Host, e.Detected)
			}
			if e.State != result.Open && e.Detected != nil {
				t.Errorf("port %v (%v) detected", e.Port, e.State)
			}
		case result.Host:
			if seen[e.Addr] != portsPer {
				t.Errorf("host %v came after %d of its %d ports", e.Addr, seen[e.Addr], portsPer)
			}
			done[e.Addr] = true
		case result.Summary:
			if i != len(events)-1 {
				t.Errorf("End is event %d of %d", i, len(events))
			}
		}
	}
	if len(done) != hosts {
		t.Errorf("%d Host events, want %d", len(done), hosts)
	}
}

func TestSinkInterrupted(t *testing.T) {
	quiet := listen(t, silent)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	sink := NewSink(ctx, Config{Dial: redirect(quiet), Concurrency: 2, Timeout: time.Hour}, rec)
	sink.Begin(result.Info{})
	addr := netip.MustParseAddr("127.0.0.1")
	for n := range uint16(6) {
		sink.Port(result.Port{Host: addr, Port: ports.Port{Number: 10000 + n, Proto: ports.TCP}, State: result.Open})
	}
	sink.Host(result.Host{Addr: addr})
	cancel()
	if err := sink.End(result.Summary{Interrupted: true}); err != nil {
		t.Fatal(err)
	}
	var nports, nhosts int
	for _, e := range rec.events {
		switch e := e.(type) {
		case result.Port:
			nports++
			if e.Detected != nil {
				t.Errorf("interrupted port %v: Detected = %+v, want nil", e.Port, e.Detected)
			}
		case result.Host:
			nhosts++
		}
	}
	if nports != 6 || nhosts != 1 {
		t.Errorf("%d ports and %d hosts passed on, want 6 and 1", nports, nhosts)
	}
}

// failing fails every Port event.
type failing struct{ recorder }

func (f *failing) Port(result.Port) error { return io.ErrClosedPipe }

func TestSinkError(t *testing.T) {
	sshd := listen(t, greeter("SSH-2.0-OpenSSH_9.2p1\r\n"))
	sink := NewSink(context.Background(), Config{Dial: redirect(sshd)}, &failing{})
	addr := sshd.Addr()
	sink.Port(result.Port{Host: addr, Port: ports.Port{Number: 22, Proto: ports.TCP}, State: result.Closed})
	if err := sink.Port(result.Port{Host: addr, Port: ports.Port{Number: 23, Proto: ports.TCP}, State: result.Closed}); err == nil {
		t.Error("Port after a failed one: nil error, want the writer's")
	}
	if err := sink.End(result.Summary{}); err == nil {
		t.Error("End: nil error, want the writer's")
	}
}
