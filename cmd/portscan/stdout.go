package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// exitPipe is the exit status when the reader of standard output went
// away (portscan ... | head -1): that of a process killed by SIGPIPE, as
// the shell reports it, so that pipelines under "set -o pipefail" treat
// portscan as they treat every other program. Nothing is printed.
const exitPipe = 128 + int(syscall.SIGPIPE)

// errStdoutGone is the cause of a scan's cancellation when the reader of
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

// watchStdout returns a context that is cancelled with errStdoutGone as
// soon as w, when it is a pipe, has no reader any more: a scan whose
// output is cut short by "| head" then stops at once, not at the next
// line it would write, which for a range of hosts that do not answer
// may be hours away. Calling stop ends the watch.
func watchStdout(ctx context.Context, w io.Writer) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop = func() { cancel(nil) }
	f, ok := w.(*os.File)
	if !ok {
		return ctx, stop
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		return ctx, stop
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return ctx, stop
	}
	go func() {
		for ctx.Err() == nil {
			gone := false
			// The write end of a pipe polls POLLERR once the last reader
			// has closed; no event is asked for, so nothing else wakes
			// the poll, which times out to see whether ctx has ended.
			err := rc.Control(func(fd uintptr) {
				pfd := []unix.PollFd{{Fd: int32(fd)}}
				n, err := unix.Poll(pfd, 250)
				gone = err == nil && n > 0 && pfd[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
			})
			if err != nil {
				return
			}
			if gone {
				cancel(errStdoutGone)
				return
			}
		}
	}()
	return ctx, stop
}
