package audit

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to the policy parser: it returns a
// policy or one error wrapping ErrPolicy with a position, never panics,
// and a policy it returns can judge a run.
func FuzzParse(f *testing.F) {
	f.Add([]byte(webPolicy))
	f.Add([]byte("groups:\n  - name: a\n    targets: 10.0.0.0/30\n    require: [U:53, 22-25]\n    other: warn\nscan:\n  udp: true\n  rate: 10\n"))
	f.Add([]byte("groups:\n  - {name: x, targets: [\"::1\"], deny: \"1-65535\"}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		opt := Options{Lookup: catalog.Ports, Resolve: func(context.Context, string) ([]netip.Addr, error) {
			return nil, errors.New("no DNS in tests")
		}}
		p, err := Parse("f.yaml", src, opt)
		if err != nil {
			if p != nil {
				t.Fatal("a policy and an error")
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPolicy) || pe.Pos.Line < 1 || pe.Pos.Col < 1 {
				t.Fatalf("error %q is not a positioned PolicyError", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if _, err := Judge(context.Background(), p, fakeRun("10.0.0.1 22:open")); err != nil {
			t.Fatal(err)
		}
	})
}
