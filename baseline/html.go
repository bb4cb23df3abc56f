package baseline

import (
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/portscan/portscan/internal/htmlpage"
	"github.com/portscan/portscan/internal/text"
)

// diffTmpl is parsed when a page is first written, not at start: a run
// that writes none pays nothing for it.
var diffTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("diff").Funcs(htmlpage.Funcs()).Parse(`
{{- define "summary"}}<section id="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Summary</h2>
<p>{{.Summary}}</p>
<ul class="cards">
{{- range .Cards}}
<li><span class="n">{{.N}}</span> <span class="l">{{.L}}</span></li>
{{- end}}
</ul>
</section>
{{end}}
{{- define "changes"}}<section id="{{.ID}}" class="filterable" data-noun="changes" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h">{{.Title}}</h2>
{{- if .Empty}}
<p>No differences.</p>
{{- else}}
<div class="controls" hidden>
<label>Filter <input type="search" data-filter="text" placeholder="host, port, service"></label>
</div>
<p class="count" aria-live="polite"></p>
{{- end}}
{{- range .Parts}}
<section id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h3 id="{{.ID}}-h">{{.Title}} ({{len .Rows}})</h3>
<table class="data">
<thead><tr><th scope="col" data-sort="key">Host</th>{{if .Ports}}<th scope="col" data-sort="key">Port</th>{{end}}{{if .What}}<th scope="col" data-sort="text">Change</th>{{end}}<th scope="col" data-sort="text">{{.Was}}</th><th scope="col" data-sort="text">{{.Now}}</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="r"><td data-k="{{.HostKey}}"><span class="{{.MarkClass}}" aria-hidden="true">{{.Mark}}</span> {{.Host}}</td>{{if .Ports}}<th scope="row" data-k="{{.PortKey}}">{{.Port}}</th>{{end}}{{if .What}}<td>{{.Change}}</td>{{end}}<td>{{.Was}}</td><td>{{.Now}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
</section>
{{end}}`))
})

// htmlPart is one section of changes: opened, closed, changed, hosts
// appeared, hosts gone.
type htmlPart struct {
	ID, Title string
	Was, Now  string
	Ports     bool // a Port column
	What      bool // a Change column
	Rows      []htmlChange
}

type htmlChange struct {
	Ports, What      bool
	Mark, MarkClass  string
	HostKey, Host    string
	PortKey, Port    string
	Was, Now, Change string
}

// parts sorts the changes into the sections of the page, each in the
// order of the diff: hosts by address, ports by protocol and number.
func (d *Diff) parts() []htmlPart {
	parts := []htmlPart{
		{ID: "opened", Title: "Opened", Was: "Was", Now: "Now open", Ports: true},
		{ID: "closed", Title: "Closed", Was: "Was open", Now: "Now", Ports: true},
		{ID: "changed", Title: "Changed", Was: "Was", Now: "Now", Ports: true, What: true},
		{ID: "appeared", Title: "Hosts appeared", Was: "Status", Now: "Open ports"},
		{ID: "gone", Title: "Hosts gone", Was: "Status", Now: "Was open"},
	}
	for _, c := range d.Changes {
		host := htmlpage.Clean(c.Host.String())
		if c.Hostname != "" {
			host = htmlpage.Clean(c.Hostname) + " (" + host + ")"
		}
		row := htmlChange{Host: host, HostKey: hostKey(c), Mark: c.mark(), Port: c.Port.String(),
			PortKey: strconv.Itoa(100000 + int(c.Port.Number))[1:] + "/" + c.Port.Proto.String()}
		row.MarkClass = map[string]string{"+": "chg-add", "-": "chg-del", "~": "chg-mod"}[row.Mark]
		svc := func(s string) string {
			if s == "" {
				return ""
			}
			return " (" + htmlpage.Clean(s) + ")"
		}
		var i int
		switch c.Kind {
		case PortOpened:
			i, row.Was, row.Now = 0, htmlpage.Clean(c.Old), "open"+svc(c.New)
		case PortClosed:
			i, row.Was, row.Now = 1, "open"+svc(c.Old), htmlpage.Clean(c.New)
		case ServiceChanged, DetectedChanged, VersionChanged:
			i, row.Was, row.Now = 2, htmlpage.Clean(c.Old), htmlpage.Clean(c.New)
			row.Change = map[Kind]string{ServiceChanged: "service label", DetectedChanged: "detected service", VersionChanged: "version of " + htmlpage.Clean(c.NewDetected.label())}[c.Kind]
			if row.Was == "" {
				row.Was = "none"
			}
			if row.Now == "" {
				row.Now = "none"
			}
		case HostAppeared:
			i, row.Was, row.Now = 3, "up", htmlpage.Clean(strings.Join(c.Ports, ", "))
		case HostGone:
			i, row.Was, row.Now = 4, "down or absent", htmlpage.Clean(strings.Join(c.Ports, ", "))
		default:
			continue
		}
		row.Ports, row.What = parts[i].Ports, parts[i].What
		parts[i].Rows = append(parts[i].Rows, row)
	}
	out := parts[:0]
	for _, p := range parts {
		if len(p.Rows) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// hostKey sorts the hosts of changes in address order as strings.
func hostKey(c Change) string {
	b := c.Host.As16()
	fam := "6"
	if c.Host.Is4() {
		fam = "4"
	}
	const hex = "0123456789abcdef"
	out := []byte(fam)
	for _, x := range b {
		out = append(out, hex[x>>4], hex[x&15])
	}
	return string(out)
}

// WriteHTMLSections writes the changes as sections of an HTML page, for
// a page of its own (WriteHTML) or inside another (the audit's): one
// section of id, titled title, holding a table each of the ports opened,
// closed and changed and the hosts appeared and gone, with a filter.
func (d *Diff) WriteHTMLSections(w io.Writer, id, title string) error {
	return diffTmpl().ExecuteTemplate(w, "changes", map[string]any{"ID": id, "Title": title, "Empty": d.Empty(), "Parts": d.parts()})
}

// WriteHTML writes the diff as one self-contained HTML page (see
// internal/htmlpage): a summary of the counts, then a section for each
// kind of change, sortable and filterable.
func (d *Diff) WriteHTML(w io.Writer, version string) error {
	head := htmlpage.Head{Title: "portscan diff", Kind: "diff", Facts: []htmlpage.Fact{
		{Name: "Old", Value: htmlpage.Clean(d.Old), Code: true}, {Name: "New", Value: htmlpage.Clean(d.New), Code: true}},
		Nav: []htmlpage.Link{{ID: "summary", Name: "Summary"}, {ID: "changes", Name: "Changes"}}}
	if err := htmlpage.WriteHead(w, head); err != nil {
		return err
	}
	n := map[Kind]int{}
	for _, c := range d.Changes {
		n[c.Kind]++
	}
	type card struct{ N, L string }
	cards := []card{}
	for _, k := range []Kind{PortOpened, PortClosed, ServiceChanged, DetectedChanged, VersionChanged, HostAppeared, HostGone} {
		if n[k] > 0 {
			l := text.Count(n[k], kindCounted[k][0], kindCounted[k][1])
			cards = append(cards, card{strconv.Itoa(n[k]), l[len(strconv.Itoa(n[k]))+1:]})
		}
	}
	if err := diffTmpl().ExecuteTemplate(w, "summary", map[string]any{"Summary": d.Summary(), "Cards": cards}); err != nil {
		return err
	}
	if err := d.WriteHTMLSections(w, "changes", "Changes"); err != nil {
		return err
	}
	gen := "Written by portscan"
	if version != "" {
		gen += " " + htmlpage.Clean(version)
	}
	return htmlpage.WriteFoot(w, gen+".")
}
