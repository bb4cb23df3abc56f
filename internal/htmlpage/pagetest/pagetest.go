// Package pagetest checks, for tests, that a page written with package
// htmlpage can do nothing but show itself.
package pagetest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/portscan/portscan/internal/htmlpage"
)

// voidElements have no end tag.
var voidElements = map[string]bool{"meta": true, "input": true, "br": true, "hr": true, "col": true, "wbr": true}

// forbiddenElements would fetch, navigate or run something.
var forbiddenElements = map[string]bool{"img": true, "link": true, "iframe": true, "object": true, "embed": true, "form": true,
	"base": true, "audio": true, "video": true, "source": true, "frame": true, "image": true, "use": true, "foreignobject": true, "a": false}

// Check fails unless out is a page that can do nothing but show
// itself: valid UTF-8 with no control character but newlines, no format
// character (bidi overrides) outside the script and style, every element
// closed, one script (the page's own), no event or style attribute, no
// element that fetches, and links only to its own sections. It returns
// the page's text, each text node on a line.
func Check(t testing.TB, out []byte) string {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("page is not valid UTF-8")
	}
	for i, r := range string(out) {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			t.Fatalf("page holds %U at byte %d: %q", r, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	z := html.NewTokenizer(bytes.NewReader(out))
	var stack []string
	var textOut strings.Builder
	scripts := 0
	inScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("tokenizing: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name := tok.Data
			if forbiddenElements[name] {
				t.Errorf("page has a <%s>", name)
			}
			for _, a := range tok.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on"), a.Key == "style", a.Key == "src", a.Key == "srcdoc", a.Key == "action", a.Key == "formaction", a.Key == "xlink:href":
					t.Errorf("<%s> has attribute %s=%q", name, a.Key, a.Val)
				case a.Key == "href" && !strings.HasPrefix(a.Val, "#"):
					t.Errorf("<%s> links outside the page: %q", name, a.Val)
				case a.Key == "http-equiv" && !strings.EqualFold(a.Val, "Content-Security-Policy"):
					t.Errorf("<meta http-equiv=%q>", a.Val)
				}
			}
			if name == "script" {
				scripts++
				inScript = true
			}
			if tt == html.StartTagToken && !voidElements[name] {
				stack = append(stack, name)
			}
		case html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("</%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
			inScript = false
		case html.TextToken:
			if inScript {
				if tok.Data != htmlpage.Script() {
					t.Errorf("a script that is not the page's own: %.80q", tok.Data)
				}
				continue
			}
			if s := strings.TrimSpace(tok.Data); s != "" && (len(stack) == 0 || stack[len(stack)-1] != "style") {
				textOut.WriteString(s + "\n")
			}
		}
	}
	if len(stack) != 0 {
		t.Errorf("elements left open: %v", stack)
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want 1", scripts)
	}
	return textOut.String()
}
