package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// judgeDetection applies the group's rules on detected services to h:
// a check per rule. A port detection did not run on cannot be judged:
// the check warns "not verified" rather than pass.
func judgeDetection(g *Group, run *baseline.Run, h *baseline.Host, now time.Time) []Check {
	var out []Check
	for _, r := range g.Detection {
		c := Check{Group: g.Name, Host: h.Addr, Hostname: h.Hostname, Rule: r.Kind, Entry: r.Text, Pos: r.Pos}
		switch r.Kind {
		case Service:
			judgeService(&c, r, run, h)
		case DenyService:
			judgeDenyService(&c, r, h)
		default:
			judgeTLS(&c, r, h, now)
		}
		out = append(out, c)
	}
	return out
}

// detectedFinding is an open port, with what detection found there.
func detectedFinding(h *baseline.Host, p ports.Port, detail string) Finding {
	f := finding(h, p, "open")
	if d := h.Ports[p].Detected; d != nil && d.Name != "" {
		f.Detected = describeService(d)
	}
	f.Detail = detail
	return f
}

// notRun is the detail of an open port detection did not run on.
const notRun = "detection did not run"

// judgeService checks that the open ports of a services entry speak
// one of its names.
func judgeService(c *Check, r Rule, run *baseline.Run, h *baseline.Host) {
	var bad, unverified []Finding
	checked, open := 0, 0
	for p := range r.Ports.Ports() {
		if !run.CoversProtocol(p.Proto) {
			continue
		}
		checked++
		st, listed := h.Ports[p]
		if !listed || st.State != result.Open {
			continue
		}
		open++
		switch d := st.Detected; {
		case d == nil:
			unverified = append(unverified, detectedFinding(h, p, notRun))
		case d.Name == "":
			unverified = append(unverified, detectedFinding(h, p, "nothing identified"))
		case matchesAny(r.Names, d):
		case d.Name == "ssl" && d.Tunnel == "":
			unverified = append(unverified, detectedFinding(h, p, "TLS, the service inside not identified"))
		default:
			bad = append(bad, detectedFinding(h, p, ""))
		}
	}
	port, _, _ := strings.Cut(r.Text, " ")
	want := strings.Join(r.Names, " or ")
	switch {
	case checked == 0:
		c.Status, c.Message = Skipped, fmt.Sprintf("%q not checked: no results for its protocol", port)
	case len(bad) > 0:
		c.Status, c.Findings = Failed, bad
		c.Message = fmt.Sprintf("%s, not %s", listSpeaks(bad), want)
	case len(unverified) > 0:
		c.Status, c.Findings = Warned, unverified
		c.Message = fmt.Sprintf("not verified that %q speaks %s: %s", port, want, listDetected(unverified))
	case open == 0:
		c.Status, c.Message = Passed, fmt.Sprintf("no port of %q open", port)
	default:
		c.Status, c.Message = Passed, fmt.Sprintf("%q speaks %s", port, want)
	}
}

func matchesAny(names []string, s *result.Service) bool {
	for _, n := range names {
		if MatchService(n, s) {
			return true
		}
	}
	return false
}

// judgeDenyService checks that no open port of h speaks the denied
// service. A port where detection ran and identified nothing does not
// count: detection had its say.
func judgeDenyService(c *Check, r Rule, h *baseline.Host) {
	var bad, unverified []Finding
	for _, p := range h.OpenPorts() {
		switch d := h.Ports[p].Detected; {
		case d == nil:
			unverified = append(unverified, detectedFinding(h, p, notRun))
		case MatchService(r.Names[0], d):
			bad = append(bad, detectedFinding(h, p, ""))
		}
	}
	switch {
	case len(bad) > 0:
		c.Status, c.Findings = Failed, bad
		c.Message = fmt.Sprintf("denied service %q detected: %s", r.Names[0], listDetected(bad))
	case len(unverified) > 0:
		c.Status, c.Findings = Warned, unverified
		c.Message = fmt.Sprintf("not verified that no port speaks %q: %s", r.Names[0], listDetected(unverified))
	default:
		c.Status, c.Message = Passed, fmt.Sprintf("no port speaks %q", r.Names[0])
	}
}

// tlsVerdicts are what a tls rule makes of one handshake.
const (
	tlsOK = iota
	tlsBad
	tlsUnknown
)

// judgeTLS applies a tls rule to every open port of h where detection
// saw a TLS handshake.
func judgeTLS(c *Check, r Rule, h *baseline.Host, now time.Time) {
	var bad, unverified []Finding
	seen := 0
	for _, p := range h.OpenPorts() {
		d := h.Ports[p].Detected
		if d == nil {
			unverified = append(unverified, detectedFinding(h, p, notRun))
			continue
		}
		if d.TLS == nil {
			continue
		}
		seen++
		switch detail, v := tlsVerdict(r, d.TLS, now); v {
		case tlsBad:
			bad = append(bad, detectedFinding(h, p, detail))
		case tlsUnknown:
			unverified = append(unverified, detectedFinding(h, p, detail))
		}
	}
	what := map[Kind]string{TLSVersion: "TLS below " + r.Text, TLSExpiry: "certificate expiring within " + r.Text,
		TLSSelfSigned: "self-signed certificate"}[r.Kind]
	switch {
	case len(bad) > 0:
		c.Status, c.Findings = Failed, bad
		if r.Kind == TLSSelfSigned && r.Action == Warn {
			c.Status = Warned
		}
		c.Message = fmt.Sprintf("%s: %s", what, listDetected(bad))
	case len(unverified) > 0:
		c.Status, c.Findings = Warned, unverified
		c.Message = fmt.Sprintf("not verified (%s): %s", what, listDetected(unverified))
	case seen == 0:
		c.Status, c.Message = Passed, "no TLS service seen"
	default:
		c.Status, c.Message = Passed, fmt.Sprintf("no %s on %s", what, text.Count(seen, "TLS port", "TLS ports"))
	}
}

// tlsVerdict applies a tls rule to one handshake, and says why when it
// does not pass.
func tlsVerdict(r Rule, t *result.TLS, now time.Time) (string, int) {
	switch r.Kind {
	case TLSVersion:
		v, ok := resultTLSVersion(t.Version)
		switch {
		case !ok:
			return fmt.Sprintf("TLS version %q unknown", t.Version), tlsUnknown
		case v < r.Version:
			return tlsVersionText(v), tlsBad
		}
	case TLSExpiry:
		switch left := t.NotAfter.Sub(now); {
		case t.NotAfter.IsZero():
			return "no certificate expiry seen", tlsUnknown
		case left < 0:
			return "certificate expired " + t.NotAfter.UTC().Format(time.RFC3339), tlsBad
		case left < r.Within:
			return fmt.Sprintf("certificate expires %s, in %s", t.NotAfter.UTC().Format(time.RFC3339), daysText(left)), tlsBad
		}
	case TLSSelfSigned:
		if t.SelfSigned {
			return "subject " + t.Subject, tlsBad
		}
	}
	return "", tlsOK
}

func daysText(d time.Duration) string {
	if n := int(d / (24 * time.Hour)); n > 0 {
		return text.Count(n, "day", "days")
	}
	return "less than a day"
}

// listSpeaks writes ports and the services detection named there:
// "443/tcp speaks ssh (OpenSSH 9.2p1)".
func listSpeaks(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Port.String()+" speaks "+f.Detected)
	}
	return joinMost(parts)
}

// joinMost joins the first ten parts with commas, and says how many
// more there are.
func joinMost(parts []string) string {
	const most = 10
	if len(parts) > most {
		parts = append(parts[:most], fmt.Sprintf("and %d more", len(parts)-most))
	}
	return strings.Join(parts, ", ")
}

// listDetected writes ports with what detection found and why they
// did not pass: "443/tcp ssh (OpenSSH 9.2p1)", "22/tcp: detection did
// not run", "8443/tcp ssl/http: TLS 1.0".
func listDetected(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		s := f.Port.String()
		if f.Detected != "" {
			s += " " + f.Detected
		}
		if f.Detail != "" {
			s += ": " + f.Detail
		}
		parts = append(parts, s)
	}
	return joinMost(parts)
}

// detectionRan reports whether any port of the run has detection
// results.
func detectionRan(run *baseline.Run) bool {
	for _, h := range run.Hosts() {
		for _, p := range h.Ports {
			if p.Detected != nil {
				return true
			}
		}
	}
	return false
}
