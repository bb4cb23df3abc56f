package audit

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

// deepFlow nests n flow lists in a group's allow entry.
func deepFlow(n int) string {
	return "groups:\n  - name: a\n    targets: 10.0.0.1\n    allow: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n"
}

// deepBlock nests n mappings by indentation, one space a level.
func deepBlock(n int) string {
	var b strings.Builder
	b.WriteString("groups:\n  - name: a\n    targets: 10.0.0.1\n    description:\n")
	for i := range n {
		b.WriteString(strings.Repeat(" ", 5+i) + "k:\n")
	}
	return b.String()
}

func TestParseLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want error  // nil: no limit error
		msg  string // the error's text, when want is set
	}{
		{"flow 40000 deep", deepFlow(40000), ErrTooDeep, "policy.yaml:4:73: nesting deeper than 64 levels, the limit for a policy"},
		{"sequence entries 40000 deep", "groups:\n  - " + strings.Repeat("- ", 40000) + "x\n", ErrTooDeep, "policy.yaml:2:129: nesting deeper than 64 levels, the limit for a policy"},
		{"indentation 100 deep", deepBlock(100), ErrTooDeep, "policy.yaml:66:67: nesting deeper than 64 levels, the limit for a policy"},
		{"flow map in list", "groups: " + strings.Repeat("[a: ", 40) + "x" + strings.Repeat("]", 40) + "\n", ErrTooDeep, "policy.yaml:1:134: nesting deeper than 64 levels, the limit for a policy"},
		{"flow at the limit", deepFlow(61), nil, ""},
		{"indentation at the limit", deepBlock(60), nil, ""},
		{"brackets in a quoted string", "groups:\n  - name: '" + strings.Repeat("[", 100) + "'\n    targets: 10.0.0.1\n", nil, ""},
		{"brackets in a literal block", "groups:\n  - name: a\n    targets: 10.0.0.1\n    description: |\n      " + strings.Repeat("{", 100) + "\n", nil, ""},
		{"one byte too large", "groups: [{name: a, targets: 10.0.0.1}]\n" + strings.Repeat("#", MaxSize-39) + "\n", ErrTooLarge, "policy.yaml:1:1: policy larger than 256 KiB, the limit for a policy"},
		{"at the size limit", "groups: [{name: a, targets: 10.0.0.1}]\n" + strings.Repeat("#", MaxSize-40) + "\n", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("policy.yaml", []byte(tt.src), opts())
			if tt.want == nil {
				if errors.Is(err, ErrTooDeep) || errors.Is(err, ErrTooLarge) {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrPolicy) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n %q, want\n %q", err, tt.msg)
			}
		})
	}
}

// TestLoadEndless: a policy that never ends is refused once it passes
// the size limit.
func TestLoadEndless(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	_, err := Load("/dev/zero", opts())
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if want := "/dev/zero:1:1: policy larger than 256 KiB, the limit for a policy"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestParseTagChain: the YAML parser nests each tag's value under it
// whatever the indentation, so a chain of tags nests as deep as it is
// long, in memory that grows with the square of its length. Tags are
// refused before the parser sees them.
func TestParseTagChain(t *testing.T) {
	for _, tt := range []struct{ unit, msg string }{
		{"0: !0\n", "policy.yaml:1:9: tags are not supported in a policy"},
		{"0: &a\n", "policy.yaml:1:9: anchors and aliases are not supported in a policy"},
	} {
		src := "groups: " + tt.unit[3:] + strings.Repeat(tt.unit, 40000)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Parse("policy.yaml", []byte(src), opts())
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != tt.msg {
			t.Errorf("error %v, want %s", err, tt.msg)
		}
		// The lexer's tokens take some 40 MiB; the parser took gigabytes.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
			t.Errorf("%q x 40000: %d MiB allocated", tt.unit, alloc>>20)
		}
	}
}
