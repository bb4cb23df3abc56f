package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/htmlpage/pagetest"
)

func TestWriteHTML(t *testing.T) {
	for name, rep := range map[string]*Report{"report.html": sampleReport(t), "passing.html": judge(t, webPolicy, fakeRun("198.18.0.1 443:open"))} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := rep.WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			pagetest.Check(t, b.Bytes())
			golden(t, name, b.Bytes())
		})
	}
}

// TestHTMLViolationsFirst checks the order of the page: violations,
// then warnings, skips and the passed checks, then the baseline.
func TestHTMLViolationsFirst(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	p := b.String()
	last := -1
	for _, id := range []string{`id="summary"`, `id="violations"`, `id="warnings"`, `id="skipped"`, `id="passed"`, `id="baseline"`} {
		i := strings.Index(p, id)
		if i < 0 {
			t.Fatalf("page lacks %s", id)
		}
		if i < last {
			t.Errorf("%s comes before the section it should follow", id)
		}
		last = i
	}
	if !strings.Contains(p, `<span class="verdict fail">FAIL</span>`) {
		t.Error("no FAIL verdict")
	}
}

// TestHTMLHostilePolicy renders a report whose group names, messages
// and hosts carry hostile strings.
func TestHTMLHostilePolicy(t *testing.T) {
	const evil = "<script>alert(1)</script>\u202e\x1b[1m\xff"
	rep := sampleReport(t)
	rep.Policy, rep.Source = evil, evil
	rep.Notes = append(rep.Notes, evil)
	rep.Uncovered = append(rep.Uncovered, evil)
	for gi := range rep.Groups {
		rep.Groups[gi].Name = evil
		for ci := range rep.Groups[gi].Checks {
			c := &rep.Groups[gi].Checks[ci]
			c.Message, c.Hostname, c.Entry = evil, evil, evil
			for fi := range c.Findings {
				c.Findings[fi].Service, c.Findings[fi].Detail = evil, evil
			}
		}
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	text := pagetest.Check(t, b.Bytes())
	if n := strings.Count(text, `<script>alert(1)</script>\u202e\x1b[1m\xff`); n < 10 {
		t.Errorf("the hostile string shows as text %d times:\n%s", n, text)
	}
}
