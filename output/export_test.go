package output

import (
	"testing"

	"github.com/portscan/portscan/result"
)

// Golden is a golden scenario as the external tests (package
// output_test, which may import the readers of output's formats) see it.
type Golden struct {
	Name    string
	Options Options
	Info    result.Info
	Ports   []result.Port // the Port events, in order
	Hosts   []result.Host // the Host events, in order
	Summary result.Summary
	sc      scenario
}

// Goldens returns the scenarios of the golden tests.
func Goldens() []Golden {
	var out []Golden
	for _, sc := range scenarios() {
		g := Golden{Name: sc.name, Options: sc.opt, Info: sc.info, Summary: sc.stats, sc: sc}
		for _, ev := range sc.events {
			if ev.port != nil {
				g.Ports = append(g.Ports, *ev.port)
			} else {
				g.Hosts = append(g.Hosts, *ev.host)
			}
		}
		out = append(out, g)
	}
	return out
}

// Render replays the scenario into format, events in their order.
func (g Golden) Render(t testing.TB, format string) []byte { return render(t, format, g.sc) }

// Shows reports whether the options list ports of state s one by one.
func (o *Options) Shows(s result.State) bool { return o.shows(s) }

// Folds reports whether text and XML fold n listed ports of state s on
// one host into a count.
func (o *Options) Folds(s result.State, n int) bool { return o.folds(s, n) }
