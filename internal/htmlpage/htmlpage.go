// Package htmlpage is the shell every HTML report of portscan shares:
// the scan and capture pages of package output, the audit page and the
// diff page. It writes the head of a page (its Content-Security-Policy,
// its one inline style sheet, its title, facts and section links) and its
// foot (the one inline script), and holds the escaping of what came from
// the network or from files.
//
// A page is one self-contained file that makes no request: the style
// sheet and the script are inline, there is no font, image or link to
// anything outside, and the policy in [CSP] forbids every fetch, so that
// a page opened from file:// or from a CI artifact tells nobody it was
// opened, even should a hostile banner get past the escaping. The script
// is allowed by its SHA-256 hash, computed at init from the script
// itself, and so is the style sheet; inline style and event attributes
// are refused, and pages have none.
//
// Pages are written with html/template, which escapes for HTML; strings
// from the network, captures, result files and catalogs first go through
// [Clean], which writes control characters, bidi overrides and bytes
// that are not UTF-8 visibly (\x1b, \u202e, \xff) as text output does, so
// that the file itself is valid UTF-8 without a byte a terminal acts on.
//
// The script sorts and filters the tables the page already has: a page
// is whole and readable without it.
package htmlpage

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/portscan/portscan/internal/text"
)

var (
	//go:embed page.css
	css string
	//go:embed page.js
	script string
)

// CSP is the Content-Security-Policy of every page: nothing may be
// fetched (default-src 'none', and no connect-src, img-src, font-src or
// frame-src of its own), the one style sheet and the one script run by
// their hashes, and no form goes anywhere.
var CSP = "default-src 'none'; style-src " + hash(css) + "; script-src " + hash(script) +
	"; base-uri 'none'; form-action 'none'"

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Script and Style return the page's inline script and style sheet, as
// the page holds them between its tags; tests check them against CSP.
func Script() string { return script }

// Style returns the page's inline style sheet.
func Style() string { return css }

// Head is what the top of a page says.
type Head struct {
	// Title is the page's <title> and <h1>.
	Title string
	// Badge, when set, follows the title: a verdict ("FAIL") with a
	// class ("fail", "pass").
	Badge, BadgeClass string
	// Lang is the page's language (html lang): "en" unless set.
	Lang string
	// Kind names the page in a class of <body>: "scan", "pcap", "audit",
	// "diff".
	Kind string
	// Facts are what the run was: a name and a value each.
	Facts []Fact
	// Nav links the page's sections, in the order they are shown.
	Nav []Link
}

// Fact is one line of a page's head; Code shows the value as code (a
// command line).
type Fact struct {
	Name, Value string
	Code        bool
	// Time, when set, is the value, written as a <time> element.
	Time time.Time
}

// Link is a link to a section of the page, by its id.
type Link struct{ ID, Name string }

// tmpl is parsed when a page is first written, not at start: a run
// that writes none pays nothing for it.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("head").Funcs(Funcs()).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{csp}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{style}}</style>
</head>
<body class="{{.Kind}}">
<header>
<h1>{{.Title}}{{if .Badge}} <span class="verdict {{.BadgeClass}}">{{.Badge}}</span>{{end}}</h1>
{{- if .Facts}}
<dl class="facts">
{{- range .Facts}}
<dt>{{.Name}}</dt><dd>{{if not .Time.IsZero}}{{timeTag .Time}}{{else if .Code}}<code>{{.Value}}</code>{{else}}{{.Value}}{{end}}</dd>
{{- end}}
</dl>
{{- end}}
{{- if .Nav}}
<nav class="sections" aria-label="Sections">{{range .Nav}}<a href="#{{.ID}}">{{.Name}}</a>{{end}}</nav>
{{- end}}
</header>
<main>
`))
})

// foot is parsed when a page is first written, not at start: a run
// that writes none pays nothing for it.
var foot = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("foot").Funcs(Funcs()).Parse(`</main>
<footer>{{.}}</footer>
<script>{{script}}</script>
</body>
</html>
`))
})

// WriteHead writes the page from its doctype to the opening of <main>,
// where its sections go.
func WriteHead(w io.Writer, h Head) error {
	if h.Lang == "" {
		h.Lang = "en"
	}
	return tmpl().Execute(w, h)
}

// WriteFoot closes <main> and writes the footer (generator, a line such
// as "Written by portscan 0.1.0") and the script.
func WriteFoot(w io.Writer, generator string) error {
	return foot().Execute(w, generator)
}

// Funcs are the functions the page templates share: clean, timeTag,
// date, csp, style and script.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"clean":   Clean,
		"timeTag": TimeTag,
		"date":    func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"csp":     func() string { return CSP },
		"style":   func() template.CSS { return template.CSS(css) },
		"script":  func() template.JS { return template.JS(script) },
	}
}

// Clean writes what came from the network or from a file so that it
// shows as it is and does nothing: text.Escape, which writes control
// characters, format characters such as the bidi overrides, and invalid
// UTF-8 visibly. html/template then escapes it for HTML.
func Clean(s string) string { return text.Escape(s) }

// TimeTag is t as a <time> element: UTC to the second, with its full
// RFC 3339 value in datetime.
func TimeTag(t time.Time) template.HTML {
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339Nano) + `">` + t.Format("2006-01-02 15:04:05") + ` UTC</time>`)
}
