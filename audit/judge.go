package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Status is the outcome of one check.
type Status uint8

// The outcomes of a check. Only Failed fails the audit.
const (
	Passed  Status = iota
	Failed         // a violation
	Warned         // worth a look, not a violation
	Skipped        // the results cannot tell: the protocol was not probed
)

var statusNames = [...]string{"pass", "fail", "warn", "skip"}

// String returns "pass", "fail", "warn" or "skip".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText writes the status name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one port behind a check's outcome.
type Finding struct {
	Port    ports.Port `json:"-"`
	State   string     `json:"state"`             // "open", "closed", "not listed", "not scanned", "host down"
	Service string     `json:"service,omitempty"` // the port's label in the results
	// Detected is what service detection found, for the rules on
	// detected services: "ssl/http (nginx 1.24.0)"; "" if nothing.
	Detected string `json:"detected,omitempty"`
	// Detail says what broke the rule or left it unverified: "TLS 1.0",
	// "detection did not run".
	Detail string `json:"detail,omitempty"`
}

// Check is one rule applied to one host.
type Check struct {
	Group    string     `json:"group"`
	Host     netip.Addr `json:"host"`
	Hostname string     `json:"hostname,omitempty"`
	Rule     Kind       `json:"rule"`
	// Entry is the rule's entry as written ("https", "23"); "" for the
	// group's other rule.
	Entry    string    `json:"entry,omitempty"`
	Pos      Pos       `json:"position"`
	Status   Status    `json:"status"`
	Message  string    `json:"message"`
	Findings []Finding `json:"ports,omitempty"`
}

// Name is the check's name in reports: "198.18.0.1 require https".
func (c *Check) Name() string {
	s := c.HostLabel() + " " + c.Rule.String()
	if c.Entry != "" {
		s += " " + c.Entry
	}
	return s
}

// HostLabel is the host as reports show it: "name (addr)" or the address.
func (c *Check) HostLabel() string {
	if c.Hostname != "" {
		return c.Hostname + " (" + c.Host.String() + ")"
	}
	return c.Host.String()
}

// GroupReport is what one group found.
type GroupReport struct {
	Name   string  `json:"name"`
	Pos    Pos     `json:"position"`
	Hosts  int     `json:"hosts"`
	Checks []Check `json:"checks"`
}

// Report is the outcome of an audit.
type Report struct {
	Policy string `json:"policy"`
	// Version is portscan's version, for the SARIF tool description.
	Version string `json:"version,omitempty"`
	// Time is when the audit ran; reports leave it out when zero.
	Time time.Time `json:"time,omitzero"`
	// Source says where the results came from: "scan" or a file name.
	Source string        `json:"source"`
	Groups []GroupReport `json:"groups"`
	// Uncovered are hosts with open ports that no group covers.
	Uncovered []string `json:"uncovered,omitempty"`
	// Notes explain what could not be judged, such as UDP rules against
	// a TCP-only scan.
	Notes []string `json:"notes,omitempty"`
	// Diff is the comparison with a baseline, when one was given.
	Diff *baseline.Diff `json:"baseline,omitempty"`
	// Counts are the checks by status.
	Counts map[Status]int `json:"counts"`
}

// Failed reports whether the audit fails: a violation, or a difference
// from the baseline.
func (r *Report) Failed() bool {
	return r.Counts[Failed] > 0 || r.Diff != nil && !r.Diff.Empty()
}

// Checks yields every check of every group.
func (r *Report) Checks() []*Check {
	var out []*Check
	for gi := range r.Groups {
		for ci := range r.Groups[gi].Checks {
			out = append(out, &r.Groups[gi].Checks[ci])
		}
	}
	return out
}

// Judge checks the hosts of run against the policy. Every group judges
// the hosts its targets cover, so a host in several groups gets the
// rules of each. For each host and group there is one check per require
// entry (every port open, else a violation), one per deny entry (any
// port open is a violation) and one for the group's other rule (any open
// port that no rule names is a violation, or a warning with other: warn).
// open|filtered, which may be open, turns a deny or require check into a
// warning rather than a pass or a failure. A host found down fails its
// require checks. Rules on a protocol the run did not probe are skipped.
//
// The rules on detected services make a check each too. A services
// entry fails when an open port of it speaks another service than it
// names (see MatchService); a deny_services entry when an open port
// speaks the service; a tls rule when a TLS handshake on an open port
// breaks it: a version below min_version, a certificate that expires
// within expires_within of Options.Now (or has expired), a self-signed
// certificate (a warning with self_signed: warn). An open port that
// detection did not run on, or where it identified nothing (services
// only), makes the check a warning, "not verified", not a pass.
func Judge(ctx context.Context, p *Policy, run *baseline.Run) (*Report, error) {
	rep := &Report{Policy: p.File, Source: run.Name, Counts: map[Status]int{}}
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	hosts := run.Hosts()
	covered := make([]bool, len(hosts))
	for _, g := range p.Groups {
		gr := GroupReport{Name: g.Name, Pos: g.Pos, Checks: []Check{}}
		for i, h := range hosts {
			ok, err := g.Covers(ctx, h.Addr, h.Hostname)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			covered[i] = true
			gr.Hosts++
			gr.Checks = append(gr.Checks, judgeHost(g, run, h)...)
			gr.Checks = append(gr.Checks, judgeDetection(g, run, h, now)...)
		}
		for _, c := range gr.Checks {
			rep.Counts[c.Status]++
		}
		rep.Groups = append(rep.Groups, gr)
	}
	for i, h := range hosts {
		if open := h.OpenPorts(); !covered[i] && len(open) > 0 {
			rep.Uncovered = append(rep.Uncovered, fmt.Sprintf("%s (%d open)", h.Addr, len(open)))
		}
	}
	if !run.CoversProtocol(ports.UDP) && usesUDP(p) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("UDP rules were not checked: %s has no UDP results (scan with udp: true, or audit a capture)", run.Name))
	}
	if p.Detects() && !detectionRan(run) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("service rules were not verified: %s has no service detection results (scan with detect: true or -sV)", run.Name))
	}
	return rep, nil
}

func usesUDP(p *Policy) bool {
	for _, g := range p.Groups {
		for _, r := range slices.Concat(g.Rules, g.Detection) {
			if r.Kind != Allow && r.Ports != nil && r.Ports.Len(ports.UDP) > 0 {
				return true
			}
		}
	}
	return false
}

func judgeHost(g *Group, run *baseline.Run, h *baseline.Host) []Check {
	var out []Check
	base := Check{Group: g.Name, Host: h.Addr, Hostname: h.Hostname}
	up := h.Up || len(h.OpenPorts()) > 0
	for _, r := range g.Rules {
		if r.Kind == Allow {
			continue
		}
		c := base
		c.Rule, c.Entry, c.Pos = r.Kind, r.Text, r.Pos
		judgeRule(&c, r, run, h, up)
		out = append(out, c)
	}
	c := base
	c.Rule, c.Pos = Other, g.OtherPos
	var bad []Finding
	for _, p := range h.OpenPorts() {
		if !g.Named(p) {
			bad = append(bad, finding(h, p, "open"))
		}
	}
	switch {
	case len(bad) == 0:
		c.Status, c.Message = Passed, "no open port outside the group's rules"
	default:
		c.Status = Failed
		if g.Other == Warn {
			c.Status = Warned
		}
		c.Findings = bad
		c.Message = fmt.Sprintf("%s open but not allowed in group %q: %s", text.Count(len(bad), "port", "ports"), g.Name, listFindings(bad))
	}
	out = append(out, c)
	return out
}

func judgeRule(c *Check, r Rule, run *baseline.Run, h *baseline.Host, up bool) {
	var bad, maybe []Finding
	checked := 0
	for p := range r.Ports.Ports() {
		if !run.CoversProtocol(p.Proto) {
			continue
		}
		checked++
		st, listed := h.Ports[p]
		switch r.Kind {
		case Require:
			switch {
			case listed && st.State == result.Open:
			case listed && st.State == result.OpenFiltered:
				maybe = append(maybe, finding(h, p, st.State.String()))
			case !up:
				bad = append(bad, finding(h, p, "host down"))
			case listed:
				bad = append(bad, finding(h, p, st.State.String()))
			case !run.Covers(p):
				bad = append(bad, finding(h, p, "not scanned"))
			default:
				bad = append(bad, finding(h, p, "not open"))
			}
		case Deny:
			switch {
			case listed && st.State == result.Open:
				bad = append(bad, finding(h, p, "open"))
			case listed && st.State == result.OpenFiltered:
				maybe = append(maybe, finding(h, p, st.State.String()))
			}
		}
	}
	entry := fmt.Sprintf("%q (%s)", r.Text, r.Ports)
	switch {
	case checked == 0:
		c.Status, c.Message = Skipped, fmt.Sprintf("%s not checked: no results for its protocol", entry)
	case len(bad) > 0 && r.Kind == Require:
		c.Status, c.Findings = Failed, bad
		c.Message = fmt.Sprintf("required %s not open: %s", portWord(r, bad), listFindings(bad))
	case len(bad) > 0:
		c.Status, c.Findings = Failed, bad
		c.Message = fmt.Sprintf("denied %s open: %s", portWord(r, bad), listFindings(bad))
	case len(maybe) > 0:
		c.Status, c.Findings = Warned, maybe
		c.Message = fmt.Sprintf("%s %s may be open (no answer to UDP probes): %s", r.Kind, portWord(r, maybe), listFindings(maybe))
	case r.Kind == Require:
		c.Status, c.Message = Passed, fmt.Sprintf("required %s open", entry)
	default:
		c.Status, c.Message = Passed, fmt.Sprintf("denied %s not open", entry)
	}
}

func portWord(r Rule, f []Finding) string {
	if len(f) == 1 {
		return fmt.Sprintf("port %q", r.Text)
	}
	return fmt.Sprintf("ports %q", r.Text)
}

func finding(h *baseline.Host, p ports.Port, state string) Finding {
	return Finding{Port: p, State: state, Service: h.Ports[p].Service}
}

// listFindings writes "443/tcp closed, 8443/tcp not open" or, for open
// ports, "3306/tcp (mysql)".
func listFindings(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		s := f.Port.String()
		if f.State != "open" {
			s += " " + f.State
		}
		if f.Service != "" {
			s += " (" + f.Service + ")"
		}
		parts = append(parts, s)
	}
	const most = 10
	if len(parts) > most {
		parts = append(parts[:most], fmt.Sprintf("and %d more", len(parts)-most))
	}
	return strings.Join(parts, ", ")
}

// MarshalJSON adds "port" and "protocol".
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Port     uint16         `json:"port"`
		Protocol ports.Protocol `json:"protocol"`
		State    string         `json:"state"`
		Service  string         `json:"service,omitempty"`
		Detected string         `json:"detected,omitempty"`
		Detail   string         `json:"detail,omitempty"`
	}{f.Port.Number, f.Port.Proto, f.State, f.Service, f.Detected, f.Detail})
}
