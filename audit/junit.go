package audit

import (
	"encoding/xml"
	"io"
	"strconv"
	"time"
)

// The JUnit XML elements WriteJUnit writes: the common subset Jenkins,
// GitLab and most CI servers read. testdata/junit.xsd describes exactly
// this shape.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr,omitempty"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure"`
		Skipped   *junitProblem `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the report as JUnit XML: a test suite per policy
// group with a test case per host and rule ("198.18.0.1 require https"),
// so that CI servers list each violation as a failed test. Warnings pass,
// with the warning in system-out; skipped checks are skipped. With a
// baseline, a "baseline" suite has a failed case per difference, or one
// passing case when there is none.
func (r *Report) WriteJUnit(w io.Writer) error {
	doc := junitSuites{Name: "portscan audit", Time: "0"}
	stamp := ""
	if !r.Time.IsZero() {
		stamp = r.Time.UTC().Format(time.RFC3339)
	}
	props := []junitProperty{{"policy", r.Policy}, {"source", r.Source}}
	for _, g := range r.Groups {
		s := junitSuite{Name: g.Name, Time: "0", Timestamp: stamp, Properties: props}
		for _, c := range g.Checks {
			tc := junitCase{Name: c.Name(), Classname: "portscan.audit." + g.Name, File: r.Policy, Line: c.Pos.Line, Time: "0"}
			switch c.Status {
			case Failed:
				tc.Failure = &junitProblem{Message: c.Message, Type: c.Rule.String(), Text: c.Message + "\npolicy " + r.Policy + " line " + strconv.Itoa(c.Pos.Line)}
				s.Failures++
			case Skipped:
				tc.Skipped = &junitProblem{Message: c.Message}
				s.Skipped++
			case Warned:
				tc.SystemOut = "warning: " + c.Message
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	if r.Diff != nil {
		s := junitSuite{Name: "baseline", Time: "0", Timestamp: stamp, Properties: []junitProperty{{"old", r.Diff.Old}, {"new", r.Diff.New}}}
		for _, c := range r.Diff.Changes {
			line := c.Line()
			s.Cases = append(s.Cases, junitCase{Name: line, Classname: "portscan.baseline", Time: "0",
				Failure: &junitProblem{Message: line, Type: c.Kind.String(), Text: line}})
			s.Failures++
		}
		if r.Diff.Empty() {
			s.Cases = append(s.Cases, junitCase{Name: "no differences from " + r.Diff.Old, Classname: "portscan.baseline", Time: "0"})
		}
		s.Tests = len(s.Cases)
		doc.Suites = append(doc.Suites, s)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
