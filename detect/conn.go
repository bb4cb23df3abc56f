package detect

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// ctxConn is a connection that ends when its job's context does: the
// budget running out, or the run interrupted, unblocks its reads at
// once.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// openClear opens a connection in the clear. A port that no longer
// takes connections is given up.
func (j *job) openClear(ctx context.Context) (net.Conn, error) {
	conn, err := j.c.dial(ctx, "tcp", j.addr)
	if err != nil {
		j.gone = true
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return &ctxConn{Conn: conn, stop: stop}, nil
}

// deadline is wait from now, or the end of the budget if sooner.
func (j *job) deadline(ctx context.Context, wait time.Duration) time.Time {
	d := time.Now().Add(wait)
	if end, ok := ctx.Deadline(); ok && end.Before(d) {
		return end
	}
	return d
}

// read reads from conn for up to wait, until decide says the bytes
// are decided (done) or that no more of them could tell more (!more),
// the server closes, or maxRead bytes came. Once the server has spoken
// it is given the answer wait for the rest. open is false when the
// connection ended (the server closed it, or it failed).
func (j *job) read(ctx context.Context, conn net.Conn, wait time.Duration, decide func([]byte) (done, more bool)) (got []byte, open bool) {
	deadline := j.deadline(ctx, wait)
	buf := make([]byte, 0, 4096)
	spoke := false
	for len(buf) < maxRead {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf[len(buf):min(cap(buf), maxRead)])
		if n > 0 {
			buf = buf[:len(buf)+n]
			if done, more := decide(buf); done || !more {
				return buf, err == nil
			}
			if !spoke {
				spoke = true
				if later := j.deadline(ctx, j.answer); later.After(deadline) {
					deadline = later
				}
			}
		}
		if err != nil {
			return buf, isTimeout(err) && ctx.Err() == nil
		}
	}
	return buf, true
}

// isTimeout says whether err is a read deadline passing, which leaves
// the connection usable.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
