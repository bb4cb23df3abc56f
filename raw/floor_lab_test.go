package raw

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
)

// BenchmarkLabLoopbackExchange is the floor under a SYN scan of every
// port of loopback: the kernel's work, and this package's, to send 65535
// SYNs to 127.0.0.1 and take the 65535 resets it answers, with nothing of
// a scanner around them (no engine, no timeouts, no results). One op is
// the whole exchange, in a namespace of its own where no port listens;
// senders is how many goroutines share the sending, as the SYN prober
// does with one a CPU. On loopback the kernel answers each SYN on the
// sender's own thread, inside sendmmsg, so cpu-ms/op over the CPUs the
// machine has is the least wall time any scanner can take here.
func BenchmarkLabLoopbackExchange(b *testing.B) {
	lab.RequireRoot(b)
	ns := lab.NewNamespace(b, "raw-floor")
	var c *Conn
	ports := PortRange{40000, 40063}
	frames := make([][]byte, 0, 65535)
	err := ns.Do(func() error {
		nl, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		if c, err = Open(lookupLink(b, nl, "lo")); err != nil {
			return err
		}
		prog, err := Filter{TCPPorts: &ports}.Program()
		if err != nil {
			return err
		}
		if err := c.SetFilter(prog); err != nil {
			return err
		}
		a := netip.MustParseAddr("127.0.0.1")
		t, err := NewBuilder().Template(Segment{Src: a, Dst: a, Flags: FlagSYN, MSS: 1460})
		if err != nil {
			return err
		}
		slab := make([]byte, 65535*t.Len())
		for p := range 65535 {
			f := slab[p*t.Len() : (p+1)*t.Len()]
			frames = append(frames, t.Put(f, ports.First+uint16(p%64), uint16(p+1), uint32(p), uint16(p)))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	for _, senders := range []int{1, 2} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			cpu := cpuTime()
			for range b.N {
				exchange(b, c, frames, senders)
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// exchange sends frames over senders goroutines, and reads until every
// one is answered.
func exchange(b *testing.B, c *Conn, frames [][]byte, senders int) {
	var wg sync.WaitGroup
	share := (len(frames) + senders - 1) / senders
	for i := 0; i < len(frames); i += share {
		wg.Add(1)
		go func(f [][]byte) {
			defer wg.Done()
			for len(f) > 0 {
				n, err := c.WriteBatch(f[:min(len(f), 1024)])
				if err != nil && n == 0 {
					b.Error(err)
					return
				}
				f = f[n:]
			}
		}(frames[i:min(i+share, len(frames))])
	}
	bufs, lens := make([][]byte, 256), make([]int, 256)
	for i := range bufs {
		bufs[i] = make([]byte, 128)
	}
	d := NewDecoder()
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for got < len(frames) && time.Now().Before(deadline) {
		n, err := c.ReadBatch(bufs, lens, 100*time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if p, err := d.Decode(bufs[i][:lens[i]]); err == nil && p.Kind == KindTCP && p.TCP.Flags&FlagRST != 0 {
				got++
			}
		}
	}
	wg.Wait()
	if got != len(frames) {
		b.Fatalf("%d resets for %d SYNs", got, len(frames))
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
