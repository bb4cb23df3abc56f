package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/portscan/portscan/internal/text"
)

// WriteText writes the report for people, grouped by policy group: each
// host with its failed, warned and skipped checks, "ok" for a host that
// passed everything, then the baseline differences and a verdict. With
// colour, failures are red, warnings yellow and passes green.
func (r *Report) WriteText(w io.Writer, colour bool) error {
	p := newPalette(colour)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Audit of %s against %s\n", text.Escape(r.Source), text.Escape(r.Policy))
	for _, g := range r.Groups {
		p.writeGroup(bw, g)
	}
	if len(r.Uncovered) > 0 {
		fmt.Fprintf(bw, "\nIn no group (not judged): ")
		for i, u := range r.Uncovered {
			if i > 0 {
				fmt.Fprint(bw, ", ")
			}
			fmt.Fprint(bw, text.Escape(u))
		}
		fmt.Fprintln(bw)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "\nNote: %s\n", text.Escape(n))
	}
	if r.Diff != nil {
		fmt.Fprintln(bw)
		if err := r.Diff.WriteText(bw, colour); err != nil {
			return err
		}
	}
	verdict := p.Good("PASS")
	if r.Failed() {
		verdict = p.Bad("FAIL")
	}
	fmt.Fprintf(bw, "\n%s: %s\n", verdict, r.Summary())
	return bw.Flush()
}

// palette paints a text report, and holds the marks of the checks that
// did not pass.
type palette struct {
	*text.Paint
	mark map[Status]string
}

func newPalette(colour bool) *palette {
	p := &palette{Paint: text.NewPaint(colour)}
	p.mark = map[Status]string{Failed: p.Bad("FAIL"), Warned: p.Warn("WARN"), Skipped: p.Faint("SKIP")}
	return p
}

// writeGroup writes one group's counts and its hosts, in the order of
// its checks, which come host by host.
func (p *palette) writeGroup(bw *bufio.Writer, g GroupReport) {
	fails, warns := 0, 0
	for _, c := range g.Checks {
		switch c.Status {
		case Failed:
			fails++
		case Warned:
			warns++
		}
	}
	// Names and messages are escaped, and no line starts with data.
	fmt.Fprintf(bw, "\nGroup %s: %s, %s, %s\n", p.Strong(text.Escape(g.Name)), text.Count(g.Hosts, "host", "hosts"),
		text.Count(fails, "violation", "violations"), text.Count(warns, "warning", "warnings"))
	if g.Hosts == 0 {
		fmt.Fprintf(bw, "  %s\n", p.Faint("no host of the results is in this group"))
	}
	for i := 0; i < len(g.Checks); {
		j := i
		for j < len(g.Checks) && g.Checks[j].Host == g.Checks[i].Host {
			j++
		}
		p.writeHost(bw, g.Checks[i:j])
		i = j
	}
}

// writeHost writes one host's checks that did not pass, or "ok".
func (p *palette) writeHost(bw *bufio.Writer, checks []Check) {
	var lines []string
	for _, c := range checks {
		if c.Status == Passed {
			continue
		}
		rule := c.Rule.String()
		if c.Entry != "" {
			rule += " " + c.Entry
		}
		lines = append(lines, fmt.Sprintf("    %s  %-20s %s", p.mark[c.Status], text.Escape(rule), text.Escape(c.Message)))
	}
	host := "host " + text.Escape(checks[0].HostLabel())
	if len(lines) == 0 {
		fmt.Fprintf(bw, "  %s  %s\n", host, p.Good("ok"))
		return
	}
	fmt.Fprintf(bw, "  %s\n", host)
	for _, l := range lines {
		fmt.Fprintln(bw, l)
	}
}

// Summary counts the checks in one line.
func (r *Report) Summary() string {
	total := 0
	for _, n := range r.Counts {
		total += n
	}
	s := fmt.Sprintf("%s, %s, %s, %s",
		text.Count(r.Counts[Failed], "violation", "violations"), text.Count(r.Counts[Warned], "warning", "warnings"),
		text.Count(r.Counts[Passed], "check passed", "checks passed"), text.Count(r.Counts[Skipped], "skipped", "skipped"))
	if total == 0 {
		s = "no host of the results is in any group"
	}
	if r.Diff != nil {
		s += fmt.Sprintf("; %s from the baseline", text.Count(len(r.Diff.Changes), "difference", "differences"))
	}
	return s
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
