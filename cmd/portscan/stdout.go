package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// exitPipe is the exit status when the reader of standard output went
// away (portscan ... | head -1): that of a process killed by SIGPIPE, as
// the shell reports it, so that pipelines under "set -o pipefail" treat
// portscan as they treat every other program. Nothing is printed.
const exitPipe = 128 + int(syscall.SIGPIPE)

// errStdoutGone is returned by a scan stopped because the reader of
// standard output went away.
var errStdoutGone = errors.New("the reader of standard output went away")

// stdoutGone reports whether err means that standard output lost its
// reader: errStdoutGone, or EPIPE from a write to os.Stdout. (SIGPIPE is
// ignored, so that such a write returns EPIPE instead of killing the
// process before the other outputs are closed.)
func stdoutGone(err error) bool {
	var pe *fs.PathError
	return errors.Is(err, errStdoutGone) ||
		errors.As(err, &pe) && pe.Path == os.Stdout.Name() && errors.Is(pe.Err, syscall.EPIPE)
}

// watchStdout returns a context that is cancelled as soon as w, when it
// is a pipe, has no reader any more, and gone, which reports whether that
// is what happened: a scan whose output is cut short by "| head" then
// stops at once, not at the next line it would write, which for a range
// of hosts that do not answer may be hours away. Calling stop ends the
// watch. (The context is cancelled without a cause: the scanner's prober
// takes any cause other than context.Canceled for a failure of its own.)
func watchStdout(ctx context.Context, w io.Writer) (_ context.Context, gone func() bool, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var closed atomic.Bool
	gone, stop = closed.Load, cancel
	f, ok := w.(*os.File)
	if !ok {
		return ctx, gone, stop
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		return ctx, gone, stop
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return ctx, gone, stop
	}
	go func() {
		for ctx.Err() == nil {
			readerGone := false
			// The write end of a pipe polls POLLERR once the last reader
			// has closed; no event is asked for, so nothing else wakes
			// the poll, which times out to see whether ctx has ended.
			err := rc.Control(func(fd uintptr) {
				pfd := []unix.PollFd{{Fd: int32(fd)}}
				n, err := unix.Poll(pfd, 250)
				readerGone = err == nil && n > 0 && pfd[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
			})
			if err != nil {
				return
			}
			if readerGone {
				closed.Store(true)
				cancel()
				return
			}
		}
	}()
	return ctx, gone, stop
}
