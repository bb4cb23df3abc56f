package merge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// A reader reads records back from the files, each through a window
// of it: hosts come in target order, which is near the order of the
// records in each file, so most records are in the window of the one
// before. Each goroutine of the second reading has its own.
type reader struct {
	files []*file
	wins  []window
	size  int    // of each window
	big   []byte // for a record larger than a window
}

// window is a piece of a file read at once.
type window struct {
	buf  []byte
	base int64 // the file offset of buf[0]
}

// Window sizes: 1 MiB each, less when there are many files, so that
// all the readers' windows together take at most windowBudget.
const (
	maxWindow    = 1 << 20
	minWindow    = 256
	windowBudget = 32 << 20
)

func newReader(files []*file, readers int) *reader {
	size := min(maxWindow, max(minWindow, windowBudget/max(1, len(files)*readers)))
	return &reader{files: files, wins: make([]window, len(files)), size: size}
}

// read returns the n bytes of f at off, valid until the next read.
func (r *reader) read(f *file, off int64, n int) ([]byte, error) {
	w := &r.wins[f.index]
	if off >= w.base && off+int64(n) <= w.base+int64(len(w.buf)) {
		i := off - w.base
		return w.buf[i : i+int64(n)], nil
	}
	if n > r.size {
		if cap(r.big) < n {
			r.big = make([]byte, n)
		}
		return r.big[:n], readAt(f, r.big[:n], off)
	}
	if w.buf == nil {
		w.buf = make([]byte, r.size)
	}
	w.buf = w.buf[:r.size]
	got, err := f.f.ReadAt(w.buf, off)
	w.buf, w.base = w.buf[:got], off
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, changed(f, off, fmt.Errorf("reading %d bytes: %w", n, err))
	}
	return w.buf[:n], nil
}

func readAt(f *file, b []byte, off int64) error {
	if _, err := f.f.ReadAt(b, off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return changed(f, off, fmt.Errorf("reading %d bytes: %w", len(b), err))
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
