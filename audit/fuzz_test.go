package audit

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/result"
)

// Small limits for FuzzParse, so that fuzzed inputs cross them often.
const (
	fuzzMaxSize  = 512
	fuzzMaxDepth = 4
)

// FuzzParse feeds arbitrary text to the policy parser: it returns a
// policy or one error wrapping ErrPolicy with a position, never panics,
// and a policy it returns can judge a run. Parsed again with small
// limits, it is refused past them, and the limits change no other
// verdict; a YAML tree deeper than the depth limit is never let through.
func FuzzParse(f *testing.F) {
	f.Add([]byte(webPolicy))
	f.Add([]byte("groups:\n  - name: a\n    targets: 10.0.0.0/30\n    require: [U:53, 22-25]\n    other: warn\nscan:\n  udp: true\n  rate: 10\n"))
	f.Add([]byte("groups:\n  - {name: x, targets: [\"::1\"], deny: \"1-65535\"}\n"))
	f.Add([]byte(servicesPolicy))
	f.Fuzz(func(t *testing.T, src []byte) {
		opt := Options{Lookup: catalog.Ports, Resolve: func(context.Context, string) ([]netip.Addr, error) {
			return nil, errors.New("no DNS in tests")
		}}
		p, err := Parse("f.yaml", src, opt)
		checkErr(t, p, err)
		if err == nil {
			for _, run := range []*baseline.Run{fakeRun("10.0.0.1 22:open"), fuzzDetectedRun()} {
				if _, err := Judge(context.Background(), p, run); err != nil {
					t.Fatal(err)
				}
			}
		}

		small, serr := parseLimited("f.yaml", src, opt, fuzzMaxSize, fuzzMaxDepth)
		checkErr(t, small, serr)
		limit := errors.Is(serr, ErrTooLarge) || errors.Is(serr, ErrTooDeep)
		switch {
		case len(src) > fuzzMaxSize && !errors.Is(serr, ErrTooLarge):
			t.Fatalf("%d bytes, limit %d: error %v", len(src), fuzzMaxSize, serr)
		case serr == nil && err != nil:
			t.Fatalf("accepted with small limits, refused with the defaults: %v", err)
		case serr != nil && !limit && (err == nil || err.Error() != serr.Error()):
			t.Fatalf("small limits changed the verdict: %v, not %v", serr, err)
		}
		if len(src) > fuzzMaxSize || limit {
			return
		}
		// The depth check read the tokens as the parser does: the
		// tree the parser makes of tokens it lets through is no deeper.
		tokens := lexer.Tokenize(string(src))
		if precheck("f.yaml", tokens, fuzzMaxDepth) != nil {
			return
		}
		if file, err := parser.Parse(tokens, 0); err == nil {
			for _, d := range file.Docs {
				if n := treeDepth(d); n > fuzzMaxDepth {
					t.Fatalf("YAML tree %d deep passed the depth limit %d", n, fuzzMaxDepth)
				}
			}
		}
	})
}

// fuzzDetectedRun is a run with detection on every open port, for the
// rules on detected services to judge.
func fuzzDetectedRun() *baseline.Run {
	run := fakeRun("10.0.0.1 22,443,8080:open", "198.18.0.1 22,443:open")
	detected(run, "10.0.0.1 22", openSSH)
	detected(run, "10.0.0.1 443", tlsWith(func(t *result.TLS) { t.Version, t.SelfSigned = "TLS 1.0", true }))
	detected(run, "10.0.0.1 8080", nothing)
	detected(run, "198.18.0.1 22,443", bareTLS)
	return run
}

func checkErr(t *testing.T, p *Policy, err error) {
	t.Helper()
	if err == nil {
		return
	}
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
}

// treeDepth is how deeply collections nest in a YAML tree: each
// mapping and list counts one, as a single key: value pair does.
func treeDepth(n ast.Node) int {
	switch v := n.(type) {
	case *ast.DocumentNode:
		return treeDepth(v.Body)
	case *ast.MappingNode:
		d := 0
		for _, mv := range v.Values {
			d = max(d, treeDepth(mv.Key), treeDepth(mv.Value))
		}
		return 1 + d
	case *ast.MappingValueNode:
		return 1 + max(treeDepth(v.Key), treeDepth(v.Value))
	case *ast.SequenceNode:
		d := 0
		for _, x := range v.Values {
			d = max(d, treeDepth(x))
		}
		return 1 + d
	case *ast.MappingKeyNode:
		return treeDepth(v.Value)
	case *ast.TagNode:
		return treeDepth(v.Value)
	case *ast.AnchorNode:
		return treeDepth(v.Value)
	}
	return 0
}
