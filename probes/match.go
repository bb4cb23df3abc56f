package probes

import (
	"strings"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Confidence of a service named by a match line, on result.Service's
// scale: a match line names the service and often its product; a
// softmatch names only the protocol, from a looser pattern.
const (
	ConfidenceMatch     = 10
	ConfidenceSoftmatch = 7
)

// Found is everything a match line says of a reply.
type Found struct {
	// Service has Name, Product, Version, Info, CPE, Method and
	// Confidence set; Tunnel, Banner and TLS are the caller's to fill.
	Service result.Service
	// The h/, o/ and d/ fields, which result.Service has no place for.
	Hostname, OS, Device string
	Soft                 bool   // it came from a softmatch line
	Probe                *Probe // the probe whose line matched
	Match                *Match // the line
}

// Match names the service from reply, the bytes a service sent after
// probe was sent (or after connecting, for the NULL probe). ok says a
// match or softmatch line matched; soft says it was a softmatch, which
// names the service but not its version: go on with the probes that can
// tell more ([Probe.Possible]).
func (f *File) Match(probe *Probe, reply []byte) (svc result.Service, ok, soft bool) {
	found, ok := f.Find(probe, reply)
	return found.Service, ok, found.Soft
}

// Find is Match with all that the line says. It tries, in order, the
// probe's own lines, those of the probes its fallback line names, and
// last those of the NULL probe for a TCP probe, as nmap does (a service
// that greets first may send its greeting whatever it is sent). The
// first match line that matches wins; a softmatch line that matches is
// kept while the lines after it are tried for a match line.
func (f *File) Find(probe *Probe, reply []byte) (Found, bool) {
	if probe == nil {
		return Found{}, false
	}
	in := latin1(reply)
	var soft Found
	var haveSoft bool
	for _, pr := range f.chain(probe) {
		for _, m := range pr.Matches {
			if haveSoft && m.Soft {
				continue
			}
			groups, ok := f.try(m, in)
			if !ok {
				continue
			}
			found := m.found(groups)
			found.Probe = pr
			if !m.Soft {
				return found, true
			}
			soft, haveSoft = found, true
		}
	}
	return soft, haveSoft
}

// chain returns the probes whose lines are tried for a reply to probe.
func (f *File) chain(probe *Probe) []*Probe {
	chain := []*Probe{probe}
	add := func(p *Probe) {
		for _, q := range chain {
			if q == p {
				return
			}
		}
		chain = append(chain, p)
	}
	for _, fb := range probe.FallbackProbes {
		add(fb)
	}
	if probe.Protocol == ports.TCP && f.null != nil {
		add(f.null)
	}
	return chain
}

// try runs one line's pattern; it returns the groups, group 0 the whole
// match, as bytes.
func (f *File) try(m *Match, in []rune) (groups [][]byte, ok bool) {
	if m.re == nil {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			f.matchFails.Add(1)
			groups, ok = nil, false
		}
	}()
	res, err := m.re.FindRunesMatch(in)
	if err != nil {
		f.matchFails.Add(1)
		return nil, false
	}
	if res == nil {
		return nil, false
	}
	groups = make([][]byte, 10)
	for n := range min(10, res.GroupCount()) {
		if g := res.GroupByNumber(n); g != nil && len(g.Captures) > 0 {
			groups[n] = bytesOf(g.Runes())
		}
	}
	return groups, true
}

// found expands the line's fields from the groups.
func (m *Match) found(groups [][]byte) Found {
	svc := result.Service{
		Name:       m.Service,
		Product:    m.product.expand(groups),
		Version:    m.version.expand(groups),
		Info:       m.info.expand(groups),
		Method:     result.MethodServiceProbe,
		Confidence: ConfidenceMatch,
	}
	if m.Soft {
		svc.Confidence = ConfidenceSoftmatch
	}
	for _, t := range m.cpe {
		svc.CPE = append(svc.CPE, cpeName(t.expand(groups)))
	}
	return Found{
		Service:  svc,
		Hostname: m.host.expand(groups),
		OS:       m.os.expand(groups),
		Device:   m.device.expand(groups),
		Soft:     m.Soft,
		Match:    m,
	}
}

// cpeName writes a CPE the way CPE 2.2 URIs are written: lower case, a
// space as "_", and no control characters.
func cpeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ':
			return '_'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, strings.ToLower(s))
	return "cpe:/" + s
}

// latin1 maps each byte to the rune of the same value, so that a
// pattern's \xHH matches byte 0xHH.
func latin1(b []byte) []rune {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return r
}

// bytesOf undoes latin1.
func bytesOf(r []rune) []byte {
	b := make([]byte, len(r))
	for i, c := range r {
		b[i] = byte(c)
	}
	return b
}
