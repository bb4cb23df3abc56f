package probes

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
)

// parser reads a file line by line. Directives other than Probe and
// Exclude belong to the last Probe above them.
type parser struct {
	name    string
	opts    Options
	f       *File
	line    int
	probe   *Probe
	seen    map[string]bool // directives already given for probe
	matches int
	exclude bool
	fbPos   map[*Probe][2]int // line and column of each fallback line
}

// fail returns a syntax error at byte offset col0 (0-based) of the line.
func (p *parser) fail(col0 int, format string, args ...any) error {
	return &ParseError{File: p.name, Line: p.line, Column: col0 + 1, Err: ErrSyntax,
		Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(data []byte) error {
	for len(data) > 0 {
		p.line++
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		if len(raw) > MaxLineSize {
			return &ParseError{File: p.name, Line: p.line, Err: ErrLimit,
				Msg: fmt.Sprintf("line is longer than %d bytes", MaxLineSize)}
		}
		line := string(bytes.TrimSuffix(raw, []byte("\r")))
		if err := p.parseLine(line); err != nil {
			return err
		}
	}
	return nil
}

// handlers are the directives under a Probe, each with its parser.
var handlers = map[string]func(p *parser, line string, at int) error{
	"match":        func(p *parser, l string, at int) error { return p.match(l, at, false) },
	"softmatch":    func(p *parser, l string, at int) error { return p.match(l, at, true) },
	"ports":        func(p *parser, l string, at int) error { return p.portList(l, at, &p.probe.Ports) },
	"sslports":     func(p *parser, l string, at int) error { return p.portList(l, at, &p.probe.SSLPorts) },
	"totalwaitms":  func(p *parser, l string, at int) error { return p.millis(l, at, &p.probe.TotalWait) },
	"tcpwrappedms": func(p *parser, l string, at int) error { return p.millis(l, at, &p.probe.TCPWrapped) },
	"rarity":       (*parser).rarity,
	"fallback":     (*parser).fallback,
}

func (p *parser) parseLine(line string) error {
	start := len(line) - len(strings.TrimLeft(line, " \t"))
	if start == len(line) || line[start] == '#' {
		return nil
	}
	end := start + strings.IndexAny(line[start:]+" ", " \t")
	word := line[start:end]
	at := skipBlank(line, end) // where the directive's arguments start
	switch word {
	case "Probe":
		return p.newProbe(line, at)
	case "Exclude":
		return p.excludeLine(line, at)
	}
	h, ok := handlers[word]
	if !ok {
		return p.fail(start, "unknown directive %q", word)
	}
	if p.probe == nil {
		return p.fail(start, "%s before any Probe", word)
	}
	if word != "match" && word != "softmatch" {
		if p.seen[word] {
			return p.fail(start, "second %s line for probe %s", word, p.probe.Name)
		}
		p.seen[word] = true
	}
	if at == len(line) {
		return p.fail(at, "%s needs an argument", word)
	}
	return h(p, line, at)
}

func skipBlank(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// field returns the word of line starting at i and the offset after it.
func field(line string, i int) (string, int) {
	j := i
	for j < len(line) && line[j] != ' ' && line[j] != '\t' {
		j++
	}
	return line[i:j], j
}

// newProbe reads "Probe <TCP|UDP> <name> q|<payload>| [no-payload]".
func (p *parser) newProbe(line string, at int) error {
	if len(p.f.Probes) >= MaxProbes {
		return &ParseError{File: p.name, Line: p.line, Err: ErrLimit,
			Msg: fmt.Sprintf("more than %d probes", MaxProbes)}
	}
	protoWord, i := field(line, at)
	var proto ports.Protocol
	switch strings.ToUpper(protoWord) {
	case "TCP":
		proto = ports.TCP
	case "UDP":
		proto = ports.UDP
	default:
		return p.fail(at, "probe protocol %q: want TCP or UDP", protoWord)
	}
	i = skipBlank(line, i)
	name, j := field(line, i)
	if name == "" {
		return p.fail(i, "probe needs a name")
	}
	if p.f.byName[key(proto, name)] != nil {
		return p.fail(i, "second probe %s %s", protoWord, name)
	}
	j = skipBlank(line, j)
	if j >= len(line) || line[j] != 'q' || j+1 >= len(line) {
		return p.fail(j, "probe string must be q followed by a delimiter")
	}
	payload, k, err := probeString(line, j+1)
	if err != nil {
		return p.fail(err.at, "%s", err.msg)
	}
	pr := &Probe{Protocol: proto, Name: name, Payload: payload, Rarity: DefaultRarity, Line: p.line}
	k = skipBlank(line, k)
	if rest, _ := field(line, k); rest == "no-payload" {
		pr.NoPayload = true
		k = skipBlank(line, k+len(rest))
	}
	if k < len(line) {
		return p.fail(k, "unexpected %q after the probe string", line[k:])
	}
	p.f.Probes = append(p.f.Probes, pr)
	p.f.byName[key(proto, name)] = pr
	if proto == ports.TCP && name == "NULL" && len(payload) == 0 && p.f.null == nil {
		p.f.null = pr
	}
	p.probe, p.seen = pr, map[string]bool{}
	return nil
}

// excludeLine reads "Exclude <port specification>", as nmap's -p.
func (p *parser) excludeLine(line string, at int) error {
	if p.exclude {
		return p.fail(0, "second Exclude line")
	}
	p.exclude = true
	spec := strings.TrimRight(line[at:], " \t")
	set, err := ports.ParseSpec(spec, ports.SpecOptions{Protocols: []ports.Protocol{ports.TCP, ports.UDP}})
	if err != nil {
		col := at
		if se, ok := err.(*ports.SpecError); ok {
			col += se.Offset
		}
		return p.fail(col, "Exclude: %v", err)
	}
	p.f.Exclude = set
	return nil
}

// portList reads "21,25,8000-8100".
func (p *parser) portList(line string, at int, dst *[]PortRange) error {
	s := strings.TrimRight(line[at:], " \t")
	off := at
	for _, elem := range strings.Split(s, ",") {
		e := strings.TrimSpace(elem)
		col := off + strings.Index(elem, e)
		off += len(elem) + 1
		lo, hi, ok := strings.Cut(e, "-")
		a, errA := strconv.ParseUint(lo, 10, 16)
		b, errB := a, error(nil)
		if ok {
			b, errB = strconv.ParseUint(hi, 10, 16)
		}
		if e == "" || errA != nil || errB != nil || a == 0 || b < a {
			return p.fail(col, "invalid port or range %q", e)
		}
		*dst = append(*dst, PortRange{uint16(a), uint16(b)})
	}
	return nil
}

// millis reads a totalwaitms or tcpwrappedms value.
func (p *parser) millis(line string, at int, dst *time.Duration) error {
	s := strings.TrimRight(line[at:], " \t")
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || n > 3600_000 {
		return p.fail(at, "invalid milliseconds %q: want 1 to 3600000", s)
	}
	*dst = time.Duration(n) * time.Millisecond
	return nil
}

func (p *parser) rarity(line string, at int) error {
	s := strings.TrimRight(line[at:], " \t")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 9 {
		return p.fail(at, "invalid rarity %q: want 1 to 9", s)
	}
	p.probe.Rarity = n
	return nil
}

// fallback reads "fallback GetRequest,GenericLines"; the names are
// resolved once the whole file is read, as a fallback may name a probe
// further down.
func (p *parser) fallback(line string, at int) error {
	s := strings.TrimRight(line[at:], " \t")
	off := at
	for _, elem := range strings.Split(s, ",") {
		name := strings.TrimSpace(elem)
		if name == "" || strings.ContainsAny(name, " \t") {
			return p.fail(off, "invalid fallback probe name %q", name)
		}
		off += len(elem) + 1
		p.probe.Fallback = append(p.probe.Fallback, name)
	}
	if p.fbPos == nil {
		p.fbPos = map[*Probe][2]int{}
	}
	p.fbPos[p.probe] = [2]int{p.line, at}
	return nil
}

// finish resolves the fallback names: a probe of the same protocol, or
// else of the other (a DNS probe over TCP falls back on the UDP one's
// lines, the answers being alike).
func (p *parser) finish() error {
	for _, pr := range p.f.Probes {
		for _, name := range pr.Fallback {
			fb := p.f.byName[key(pr.Protocol, name)]
			if fb == nil {
				fb = p.f.byName[key(other(pr.Protocol), name)]
			}
			if fb == nil {
				pos := p.fbPos[pr]
				p.line = pos[0]
				return p.fail(pos[1], "fallback names no probe %q", name)
			}
			pr.FallbackProbes = append(pr.FallbackProbes, fb)
		}
	}
	return nil
}

func other(p ports.Protocol) ports.Protocol {
	if p == ports.TCP {
		return ports.UDP
	}
	return ports.TCP
}
