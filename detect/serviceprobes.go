package detect

import (
	"context"

	"github.com/portscan/portscan/result"
)

// serviceProbes runs the probes of the user's nmap-service-probes file
// (Config.ServiceProbes) that nmap would send to the port, in nmap's
// order (probes.File.ProbesFor), each on a connection of its own, and
// matches each answer with the file's match lines; the NULL probe
// sends nothing and reads what the service says first. It reports
// whether detection is decided: a hard match decides, a softmatch is
// kept while the next probes run.
func (j *job) serviceProbes(ctx context.Context, l layer) bool {
	f := j.c.ServiceProbes
	if f == nil {
		return false
	}
	for _, p := range f.ProbesFor(j.port, l.tls, j.c.Intensity) {
		if ctx.Err() != nil || j.gone {
			return false
		}
		conn, err := l.open(ctx)
		if err != nil {
			return false
		}
		if len(p.Payload) > 0 {
			conn.SetWriteDeadline(j.deadline(ctx, j.answer))
			if _, err := conn.Write(p.Payload); err != nil {
				conn.Close()
				continue
			}
		}
		decided := false
		got, _ := j.read(ctx, conn, min(p.Wait(), max(j.answer, j.greet)), func(b []byte) (bool, bool) {
			s, ok, soft := f.Match(p, b)
			if ok {
				s.Method = result.MethodServiceProbe
				j.offer(s, b, l.tls)
				decided = !soft
			}
			return decided, true // a pattern may yet match more bytes
		})
		conn.Close()
		j.saw(got)
		if decided {
			j.decided = true
			return true
		}
	}
	return false
}
