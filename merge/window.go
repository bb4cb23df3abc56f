package merge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// windowSize is how much of a file the second reading reads at once:
// hosts come in target order, which is near the order of the records
// in each file, so most records are in the window of the one before.
const windowSize = 1 << 20

// window reads records back from a file, through a window of it.
type window struct {
	f    *os.File
	buf  []byte
	base int64 // the file offset of buf[0]
	big  []byte
}

// read returns the n bytes at off, valid until the next read.
func (w *window) read(off int64, n int) ([]byte, error) {
	if off >= w.base && off+int64(n) <= w.base+int64(len(w.buf)) {
		i := off - w.base
		return w.buf[i : i+int64(n)], nil
	}
	if n > windowSize {
		if cap(w.big) < n {
			w.big = make([]byte, n)
		}
		return w.big[:n], readAt(w.f, w.big[:n], off)
	}
	if w.buf == nil {
		w.buf = make([]byte, windowSize)
	}
	w.buf = w.buf[:windowSize]
	got, err := w.f.ReadAt(w.buf, off)
	w.buf, w.base = w.buf[:got], off
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%s: reading %d bytes at offset %d: %w (changed since it was first read?)", w.f.Name(), n, off, err)
	}
	return w.buf[:n], nil
}

func readAt(f *os.File, b []byte, off int64) error {
	if _, err := f.ReadAt(b, off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: reading %d bytes at offset %d: %w (changed since it was first read?)", f.Name(), len(b), off, err)
	}
	return nil
}

// lineCol is the line and column of the byte at off, counted by
// reading the file up to it: only errors need it.
func (f *file) lineCol(off int64) (line, col int) {
	line, col = 1, 1
	br := bufio.NewReaderSize(io.NewSectionReader(f.f, 0, max(off, 0)), 64<<10)
	start := true // the byte order mark is no column
	for {
		b, err := br.ReadSlice('\n')
		if start && bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			b = b[3:]
		}
		start = false
		if len(b) > 0 && b[len(b)-1] == '\n' {
			line, col = line+1, 1
			continue
		}
		col += bytes.Count(b, nil) - 1
		if err != bufio.ErrBufferFull {
			return line, col
		}
	}
}
