package audit

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portscan/portscan/internal/htmlpage"
	"github.com/portscan/portscan/internal/text"
)

// auditTmpl is parsed when a page is first written, not at start: a run
// that writes none pays nothing for it.
var auditTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("audit").Funcs(htmlpage.Funcs()).Parse(`<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Summary</h2>
<p>{{.Summary}}</p>
<ul class="cards">
{{- range .Cards}}
<li><span class="n">{{.N}}</span> <span class="l"><span class="sev sev-{{.Class}}">{{.L}}</span></span></li>
{{- end}}
</ul>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
{{- if .Uncovered}}
<p>In no group (not judged): {{range $i, $u := .Uncovered}}{{if $i}}, {{end}}{{$u}}{{end}}</p>
{{- end}}
</section>
<section id="checks" class="filterable" data-noun="checks" aria-labelledby="checks-h">
<h2 id="checks-h">Checks</h2>
<div class="controls" hidden>
<label>Filter <input type="search" data-filter="text" placeholder="group, host, rule, port"></label>
<label>Status <select data-filter="status" data-auto><option value="">all</option></select></label>
<label>Group <select data-filter="group" data-auto><option value="">all groups</option></select></label>
</div>
<p class="count" aria-live="polite"></p>
{{- range .Parts}}
<section id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h3 id="{{.ID}}-h"><span class="sev sev-{{.Class}}">{{.Status}}</span> {{.Title}} ({{.N}})</h3>
{{- if .Fold}}
<details>
<summary>Show the {{.N}} checks that passed</summary>
{{- end}}
<table class="data">
<thead><tr><th scope="col" data-sort="key">Host</th><th scope="col" data-sort="text">Ports</th><th scope="col" data-sort="text">Message</th></tr></thead>
{{- range .Rules}}
<tbody>
<tr class="g"><th colspan="3" scope="rowgroup">group {{.Group}} · {{.Rule}} <span class="muted">{{.Pos}}</span></th></tr>
{{- range .Checks}}
<tr class="r sev-row-{{.Class}}" data-status="{{.Status}}" data-group="{{.Group}}"><td data-k="{{.HostKey}}">{{.Host}}</td><td>{{range $i, $f := .Findings}}{{if $i}}<br>{{end}}{{$f}}{{end}}</td><td>{{.Message}}</td></tr>
{{- end}}
</tbody>
{{- end}}
</table>
{{- if .Fold}}
</details>
{{- end}}
</section>
{{- end}}
{{- if not .Parts}}
<p>No host of the results is in any group.</p>
{{- end}}
</section>
`))
})

// statusOrder is the order of the sections of the page: what fails the
// audit first.
var statusOrder = []struct {
	status       Status
	id, title    string
	class, label string
}{
	{Failed, "violations", "Violations", "fail", "FAIL"},
	{Warned, "warnings", "Warnings", "warn", "WARN"},
	{Skipped, "skipped", "Skipped", "skip", "SKIP"},
	{Passed, "passed", "Passed", "pass", "PASS"},
}

type auditPart struct {
	ID, Title, Class, Status string
	N                        int
	Fold                     bool
	Rules                    []auditRule
}

// auditRule is one rule of one group, and its checks of one status.
type auditRule struct {
	Group, Rule, Pos string
	Checks           []auditRow
}

type auditRow struct {
	Class, Status, Group string
	HostKey, Host        string
	Findings             []string
	Message              string
}

// parts groups the checks by status, in statusOrder, then by group and
// rule in the policy's order.
func (r *Report) parts() []auditPart {
	var out []auditPart
	for _, so := range statusOrder {
		part := auditPart{ID: so.id, Title: so.title, Class: so.class, Status: so.label, Fold: so.status == Passed}
		index := map[string]int{}
		for gi := range r.Groups {
			g := &r.Groups[gi]
			for ci := range g.Checks {
				c := &g.Checks[ci]
				if c.Status != so.status {
					continue
				}
				rule := c.Rule.String()
				if c.Entry != "" {
					rule += " " + c.Entry
				}
				key := g.Name + "\x00" + rule + "\x00" + strconv.Itoa(c.Pos.Line) + ":" + strconv.Itoa(c.Pos.Col)
				i, ok := index[key]
				if !ok {
					i = len(part.Rules)
					index[key] = i
					part.Rules = append(part.Rules, auditRule{Group: htmlpage.Clean(g.Name), Rule: htmlpage.Clean(rule),
						Pos: fmt.Sprintf("%s:%d:%d", htmlpage.Clean(r.Policy), c.Pos.Line, c.Pos.Col)})
				}
				part.Rules[i].Checks = append(part.Rules[i].Checks, auditRow{Class: so.class, Status: so.label, Group: htmlpage.Clean(g.Name),
					HostKey: hostKey(c), Host: htmlpage.Clean(c.HostLabel()), Findings: findings(c.Findings), Message: htmlpage.Clean(c.Message)})
				part.N++
			}
		}
		if part.N > 0 {
			out = append(out, part)
		}
	}
	return out
}

func hostKey(c *Check) string {
	b := c.Host.As16()
	fam := "6"
	if c.Host.Is4() {
		fam = "4"
	}
	return fam + fmt.Sprintf("%x", b[:])
}

// findings writes each port behind a check as one line: "80/tcp open
// (http)", with what detection found and the detail.
func findings(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.Port.String() + " " + f.State
		if f.Service != "" {
			s += " (" + f.Service + ")"
		}
		if f.Detected != "" {
			s += ", detected " + f.Detected
		}
		if f.Detail != "" {
			s += ": " + f.Detail
		}
		out = append(out, htmlpage.Clean(s))
	}
	return out
}

// WriteHTML writes the report as one self-contained HTML page (see
// internal/htmlpage): the verdict and the counts, then the checks by
// status, violations first, each status grouped by policy group and
// rule, coloured by severity, the passed ones folded; then the
// differences from the baseline, when there was one.
func (r *Report) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	verdict, class := "PASS", "pass"
	if r.Failed() {
		verdict, class = "FAIL", "fail"
	}
	head := htmlpage.Head{Title: "portscan audit", Badge: verdict, BadgeClass: class, Kind: "audit", Facts: []htmlpage.Fact{
		{Name: "Policy", Value: htmlpage.Clean(r.Policy), Code: true}, {Name: "Results", Value: htmlpage.Clean(r.Source), Code: true}},
		Nav: []htmlpage.Link{{ID: "summary", Name: "Summary"}, {ID: "checks", Name: "Checks"}}}
	if !r.Time.IsZero() {
		head.Facts = append(head.Facts, htmlpage.Fact{Name: "Audited", Time: r.Time.Truncate(time.Second)})
	}
	if r.Diff != nil {
		head.Nav = append(head.Nav, htmlpage.Link{ID: "baseline", Name: "Baseline"})
	}
	if err := htmlpage.WriteHead(bw, head); err != nil {
		return err
	}
	type card struct{ N, L, Class string }
	var cards []card
	for _, so := range statusOrder {
		n := r.Counts[so.status]
		l := map[Status][2]string{Failed: {"violation", "violations"}, Warned: {"warning", "warnings"}, Skipped: {"skipped", "skipped"}, Passed: {"passed", "passed"}}[so.status]
		cards = append(cards, card{strconv.Itoa(n), strings.TrimPrefix(text.Count(n, l[0], l[1]), strconv.Itoa(n)+" "), so.class})
	}
	if r.Diff != nil {
		n := len(r.Diff.Changes)
		c := card{strconv.Itoa(n), strings.TrimPrefix(text.Count(n, "difference from the baseline", "differences from the baseline"), strconv.Itoa(n)+" "), "pass"}
		if n > 0 {
			c.Class = "fail"
		}
		cards = append(cards, c)
	}
	var notes, uncovered []string
	for _, n := range r.Notes {
		notes = append(notes, htmlpage.Clean(n))
	}
	for _, u := range r.Uncovered {
		uncovered = append(uncovered, htmlpage.Clean(u))
	}
	v := map[string]any{"Summary": htmlpage.Clean(verdict + ": " + r.Summary()), "Cards": cards, "Notes": notes, "Uncovered": uncovered, "Parts": r.parts()}
	if err := auditTmpl().Execute(bw, v); err != nil {
		return err
	}
	if r.Diff != nil {
		if err := r.Diff.WriteHTMLSections(bw, "baseline", "Differences from the baseline "+htmlpage.Clean(r.Diff.Old)); err != nil {
			return err
		}
	}
	gen := "Written by portscan"
	if r.Version != "" {
		gen += " " + htmlpage.Clean(r.Version)
	}
	if err := htmlpage.WriteFoot(bw, gen+"."); err != nil {
		return err
	}
	return bw.Flush()
}
