package htmlpage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// page writes a page with a head and a foot and nothing between.
func page(t *testing.T, h Head) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHead(&b, h); err != nil {
		t.Fatal(err)
	}
	if err := WriteFoot(&b, "Written by portscan test"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// TestPolicyHashesWhatThePageHolds checks that the hashes in the page's
// Content-Security-Policy are those of the style sheet and the script
// exactly as the page holds them: a byte that differs and the browser
// refuses to run the script.
func TestPolicyHashesWhatThePageHolds(t *testing.T) {
	p := page(t, Head{Title: "t"})
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(p)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(p)
	meta := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(p)
	if style == nil || script == nil || meta == nil {
		t.Fatalf("page lacks a style, a script or the policy:\n%s", p)
	}
	csp := html.UnescapeString(meta[1])
	if csp != CSP {
		t.Errorf("policy in the page %q, want %q", csp, CSP)
	}
	for _, want := range []string{"style-src " + sha(style[1]) + ";", "script-src " + sha(script[1]) + ";", "default-src 'none';"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if style[1] != Style() || script[1] != Script() {
		t.Error("the page's style or script differs from the embedded file")
	}
	for _, forbidden := range []string{"unsafe-inline", "unsafe-eval", "connect-src", "img-src", "font-src", "http:", "https:", "*"} {
		if strings.Contains(csp, forbidden) {
			t.Errorf("policy %q allows %q", csp, forbidden)
		}
	}
	if n := strings.Count(p, "<script"); n != 1 {
		t.Errorf("%d scripts in the page, want 1", n)
	}
}

func TestHeadEscapes(t *testing.T) {
	evil := "<script>alert(1)</script>\u202e\x1b[31m\xff\"'&"
	p := page(t, Head{Title: Clean(evil), Facts: []Fact{{Name: "Command", Value: Clean(evil), Code: true}, {Name: "Started", Time: time.Date(2026, 12, 1, 15, 44, 0, 0, time.UTC)}}})
	for _, bad := range []string{"<script>alert", "\u202e", "\x1b", "\xff"} {
		if strings.Contains(p, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{`&lt;script&gt;alert(1)&lt;/script&gt;\u202e\x1b[31m\xff&#34;&#39;&amp;`, `<time datetime="2026-12-01T15:44:00Z">2026-12-01 15:44:00 UTC</time>`} {
		if !strings.Contains(p, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestContrast reads the colours of the style sheet, light and dark, and
// checks every pair of text and background the pages use against
// WCAG's 4.5:1 for normal text.
func TestContrast(t *testing.T) {
	vars := func(block string) map[string]string {
		out := map[string]string{}
		for _, m := range regexp.MustCompile(`--([a-z-]+):(#[0-9a-f]{6})`).FindAllStringSubmatch(block, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	light := vars(Style()[:strings.Index(Style(), "@media (prefers-color-scheme:dark)")])
	dark := vars(regexp.MustCompile(`(?s)@media \(prefers-color-scheme:dark\)\{(.*?)\}\}`).FindStringSubmatch(Style())[1])
	pairs := [][2]string{}
	for _, fg := range []string{"fg", "muted", "accent", "open", "closed", "filtered", "of", "fail", "warn", "skip", "pass"} {
		pairs = append(pairs, [2]string{fg, "bg"}, [2]string{fg, "panel"})
	}
	pairs = append(pairs, [2]string{"fail", "fail-bg"}, [2]string{"warn", "warn-bg"}, [2]string{"pass", "pass-bg"}, [2]string{"fg", "warn-bg"})
	for name, scheme := range map[string]map[string]string{"light": light, "dark": dark} {
		for _, p := range pairs {
			a, b := scheme[p[0]], scheme[p[1]]
			if a == "" || b == "" {
				t.Fatalf("%s: no colour --%s or --%s", name, p[0], p[1])
			}
			if r := contrast(a, b); r < 4.5 {
				t.Errorf("%s: --%s %s on --%s %s has contrast %.2f, want 4.5 or more", name, p[0], a, p[1], b, r)
			}
		}
	}
}

// contrast is WCAG 2's contrast ratio of two colours "#rrggbb".
func contrast(a, b string) float64 {
	lum := func(h string) float64 {
		var l float64
		for i, w := range []float64{0.2126, 0.7152, 0.0722} {
			var v int
			fmt.Sscanf(h[1+2*i:3+2*i], "%02x", &v)
			c := float64(v) / 255
			if c <= 0.03928 {
				c /= 12.92
			} else {
				c = math.Pow((c+0.055)/1.055, 2.4)
			}
			l += w * c
		}
		return l
	}
	x, y := lum(a), lum(b)
	return (max(x, y) + 0.05) / (min(x, y) + 0.05)
}
