package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/portscan/portscan/internal/text"
)

// WriteGitHubAnnotations writes a workflow command per failed or warned
// check, "::error file=policy.yaml,line=5,col=15,title=...::message", so
// that GitHub Actions shows them on the run and on the policy file, and
// one per difference from the baseline.
func (r *Report) WriteGitHubAnnotations(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, c := range r.Checks() {
		cmd := map[Status]string{Failed: "error", Warned: "warning"}[c.Status]
		if cmd == "" {
			continue
		}
		title := "portscan audit: " + c.Group + " " + c.Rule.String()
		if c.Entry != "" {
			title += " " + c.Entry
		}
		fmt.Fprintf(bw, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd, ghProperty(r.Policy), c.Pos.Line, c.Pos.Col,
			ghProperty(title), ghData(c.HostLabel()+": "+c.Message))
	}
	if r.Diff != nil {
		for _, c := range r.Diff.Changes {
			fmt.Fprintf(bw, "::error title=%s::%s\n", ghProperty("portscan: changed since baseline"), ghData(c.Line()))
		}
	}
	return bw.Flush()
}

// ghData escapes a workflow command's message: text.Escape, which
// leaves no CR or LF, then GitHub's own rules.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(text.Escape(s))
}

// ghProperty escapes a workflow command's property value, where a colon
// or comma would end it.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(text.Escape(s))
}

// WriteMarkdown writes the report as GitHub-flavoured Markdown for a job
// summary ($GITHUB_STEP_SUMMARY): the verdict, a table of the checks that
// did not pass, and the differences from the baseline.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	verdict := "✅ pass"
	if r.Failed() {
		verdict = "❌ fail"
	}
	fmt.Fprintf(bw, "## portscan audit: %s\n\n", verdict)
	fmt.Fprintf(bw, "Policy `%s`, results from `%s`: %s.\n\n", mdCode(r.Policy), mdCode(r.Source), mdCell(r.Summary()))
	var rows []string
	for _, c := range r.Checks() {
		if c.Status == Passed {
			continue
		}
		icon := map[Status]string{Failed: "❌ fail", Warned: "⚠️ warn", Skipped: "⏭️ skip"}[c.Status]
		rule := c.Rule.String()
		if c.Entry != "" {
			rule += " " + c.Entry
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", mdCell(c.Group), mdCell(c.HostLabel()), mdCell(rule), icon, mdCell(c.Message)))
	}
	if len(rows) > 0 {
		fmt.Fprintln(bw, "| Group | Host | Rule | Status | Details |")
		fmt.Fprintln(bw, "| --- | --- | --- | --- | --- |")
		for _, row := range rows {
			fmt.Fprintln(bw, row)
		}
		fmt.Fprintln(bw)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "> %s\n\n", mdCell(n))
	}
	if r.Diff != nil {
		fmt.Fprintf(bw, "### Differences from the baseline `%s`\n\n", mdCode(r.Diff.Old))
		for _, c := range r.Diff.Changes {
			fmt.Fprintf(bw, "- %s\n", mdCell(c.Line()))
		}
		if r.Diff.Empty() {
			fmt.Fprintln(bw, "None.")
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// mdCell writes text as Markdown that shows it as it is and keeps it in
// one table cell: escaped (text.Escape), with no pipe, code span, link,
// emphasis or HTML of its own.
func mdCell(s string) string {
	return mdEscaper.Replace(text.Escape(s))
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;")

// mdCode writes text for a code span, which no backslash can escape: a
// backquote becomes a quote.
func mdCode(s string) string { return strings.ReplaceAll(text.Escape(s), "`", "'") }
