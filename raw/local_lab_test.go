package raw

import (
	"net/netip"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabLoopbackManyAddresses sends to more addresses of 127.0.0.0/8
// than the cache of local addresses holds: every frame goes, and the
// cache stays bounded, as memory must when a scan of 127.0.0.0/8 sends
// to millions.
func TestLabLoopbackManyAddresses(t *testing.T) {
	ns := lab.NewNamespace(t, "raw-many")
	err := ns.Do(func() error {
		nl, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer nl.Close()
		c, err := Open(lookupLink(t, nl, "lo"))
		if err != nil {
			return err
		}
		defer c.Close()
		b := NewBuilder()
		const n = 3 * localCacheMax
		a := netip.MustParseAddr("127.1.0.1")
		var frames [][]byte
		for i := 0; i < n; i++ {
			f, err := b.ICMPEcho(Echo{Src: a, Dst: a, ID: 1, Seq: uint16(i)})
			if err != nil {
				return err
			}
			frames = append(frames, append([]byte(nil), f...))
			a = a.Next()
		}
		for len(frames) > 0 {
			k, err := c.WriteBatch(frames)
			if err != nil {
				return err
			}
			frames = frames[k:]
		}
		cached := 0
		c.local.Range(func(any, any) bool { cached++; return true })
		if cached > localCacheMax {
			t.Errorf("%d addresses cached after sending to %d, want at most %d", cached, n, localCacheMax)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
