package targets

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// lines is an io.Reader that makes a target list as it is read, so that
// the list itself takes no memory: n lines, line i given by line(i).
type lines struct {
	n, i int
	line func(int) string
	buf  []byte
}

func (l *lines) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) && l.i < l.n {
		l.buf = append(l.buf, l.line(l.i)...)
		l.buf = append(l.buf, '\n')
		l.i++
	}
	if len(l.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.buf)
	l.buf = l.buf[:copy(l.buf, l.buf[n:])]
	return n, nil
}

// heapOf returns the bytes of heap in use while a Set read from n lines
// of line is held, planned and counted.
func heapOf(t *testing.T, n int, line func(int) string) (uint64, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewSet(Options{Resolve: noDNS})
	if err := s.AddFile("list", &lines{n: n, line: line}); err != nil {
		t.Fatal(err)
	}
	count, err := s.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	if after.HeapInuse < before.HeapInuse {
		return 0, count
	}
	return after.HeapInuse - before.HeapInuse, count
}

// TestListMemoryFlat reads lists of 10^5 and 10^6 lines that name the
// same 1000 hosts over and over, in every form a list names a host (an
// address, a prefix, a range, a pattern, an IPv6 address, a name): the
// heap the Set holds must not grow with the number of lines.
func TestListMemoryFlat(t *testing.T) {
	forms := []func(int) string{
		func(k int) string { return fmt.Sprintf("127.0.%d.%d", k/250, k%250) },
		func(k int) string { return fmt.Sprintf("127.1.%d.%d/30", k/250, k%250) },
		func(k int) string { return fmt.Sprintf("127.2.%d.1-127.2.%d.9", k/4, k/4) },
		func(k int) string { return fmt.Sprintf("127.3.%d.%d,3,5", k/4, k%4) },
		func(k int) string { return fmt.Sprintf("fd00::%x", k) },
		func(k int) string { return fmt.Sprintf("host%d.test", k) },
	}
	line := func(i int) string {
		if i%2 == 0 {
			return "127.0.0.1"
		}
		return forms[i%len(forms)](i % 1000)
	}
	small, n1 := heapOf(t, 100_000, line)
	large, n2 := heapOf(t, 1_000_000, line)
	if n1 != n2 {
		t.Fatalf("Count = %d for 10^5 lines and %d for 10^6: the same hosts", n1, n2)
	}
	t.Logf("heap in use: %d bytes for 10^5 lines, %d for 10^6 (%d targets)", small, large, n2)
	if large > small+256<<10 {
		t.Errorf("heap in use grew from %d to %d bytes (%.1f bytes a line) with 900000 more duplicate lines",
			small, large, float64(large-small)/900_000)
	}
}

// TestListMemoryDistinct reads 2×10^5 distinct IPv4 addresses in random
// order: each costs a few bytes, not a spec.
func TestListMemoryDistinct(t *testing.T) {
	const n = 200_000
	line := func(i int) string {
		x := uint32(i) * 2654435761 % (1 << 24) // a permutation of 127.0.0.0/8
		return fmt.Sprintf("127.%d.%d.%d", x>>16, x>>8&255, x&255)
	}
	heap, count := heapOf(t, n, line)
	if count != n {
		t.Fatalf("Count = %d, want %d", count, n)
	}
	t.Logf("heap in use: %d bytes for %d distinct addresses (%.1f a line)", heap, n, float64(heap)/n)
	if per := float64(heap) / n; per > 40 {
		t.Errorf("%.1f bytes of heap per distinct address, want at most 40", per)
	}
}

// BenchmarkExactCountSlash8 counts a /8 named by two overlapping large
// octet patterns, which ExactCount walks address by address.
func BenchmarkExactCountSlash8(b *testing.B) {
	s := NewSet(Options{})
	if err := s.Add("10.*.*.0-254 10.*.*.1-255"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		n, err := s.ExactCount(context.Background())
		if err != nil || n != 1<<24 {
			b.Fatalf("ExactCount = %d, %v", n, err)
		}
	}
}
