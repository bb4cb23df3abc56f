package probes

import (
	"fmt"
	"strings"
)

// match reads "match <service> m<d><pattern><d>[is] [<versioninfo>]" and
// softmatch lines, which have the same form.
func (p *parser) match(line string, at int, soft bool) error {
	if p.matches >= MaxMatches {
		return &ParseError{File: p.name, Line: p.line, Err: ErrLimit,
			Msg: fmt.Sprintf("more than %d match lines", MaxMatches)}
	}
	service, i := field(line, at)
	i = skipBlank(line, i)
	if i+1 >= len(line) || line[i] != 'm' {
		return p.fail(i, "pattern must be m followed by a delimiter")
	}
	pat, j, perr := pattern(line, i+1)
	if perr != nil {
		return p.fail(perr.at, "%s", perr.msg)
	}
	m := &Match{Service: service, Soft: soft, Pattern: pat, Line: p.line}
	for ; j < len(line) && line[j] != ' ' && line[j] != '\t'; j++ {
		switch line[j] {
		case 'i':
			m.CaseInsensitive = true
		case 's':
			m.DotAll = true
		default:
			return p.fail(j, "unknown pattern option %q: want i or s", line[j])
		}
	}
	if err := p.versionInfo(m, line, j); err != nil {
		return err
	}
	p.matches++
	p.probe.Matches = append(p.probe.Matches, m)
	re, err := compile(m, p.opts)
	if err != nil {
		p.f.Refused = append(p.f.Refused, &ParseError{File: p.name, Line: p.line,
			Column: i + 1, Err: ErrPattern, Msg: oneLine(err.Error())})
		return nil
	}
	m.re = re
	return nil
}

// pattern reads a pattern whose delimiter is line[d], up to the next
// delimiter not escaped by a backslash; it returns the pattern as
// written and the offset after the closing delimiter.
func pattern(line string, d int) (string, int, *posError) {
	delim := line[d]
	if isAlnum(delim) || delim == ' ' || delim == '\t' || delim == '\\' {
		return "", 0, &posError{d, "pattern delimiter must be a punctuation mark"}
	}
	for i := d + 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case delim:
			return line[d+1 : i], i + 1, nil
		}
	}
	return "", 0, &posError{d, "pattern has no closing " + string(delim)}
}

// versionInfo reads the fields after a pattern: p/ v/ i/ h/ o/ d/ with
// any delimiter, and cpe:/.../ with an optional a flag, each at most
// once but cpe: as often as wanted. The a flag is accepted and means
// nothing here.
func (p *parser) versionInfo(m *Match, line string, i int) error {
	fields := map[byte]*string{'p': &m.Product, 'v': &m.Version, 'i': &m.Info,
		'h': &m.Hostname, 'o': &m.OS, 'd': &m.Device}
	seen := map[byte]bool{}
	for i = skipBlank(line, i); i < len(line); i = skipBlank(line, i) {
		start, cpe := i, strings.HasPrefix(line[i:], "cpe:")
		kind := line[i]
		if cpe {
			i += 4
		} else if fields[kind] == nil {
			return p.fail(i, "unknown version field %q", line[i])
		} else {
			i++
		}
		if i >= len(line) || isAlnum(line[i]) || line[i] == ' ' || line[i] == '\t' {
			return p.fail(start, "version field needs a delimiter")
		}
		end := strings.IndexByte(line[i+1:], line[i])
		if end < 0 {
			return p.fail(start, "version field has no closing %c", line[i])
		}
		val := line[i+1 : i+1+end]
		t, perr := parseTemplate(val)
		if perr != nil {
			return p.fail(i+1+perr.at, "%s", perr.msg)
		}
		i += 1 + end + 1
		if cpe {
			for i < len(line) && line[i] == 'a' {
				i++
			}
			m.CPE, m.cpe = append(m.CPE, "cpe:/"+val), append(m.cpe, t)
		} else if seen[kind] {
			return p.fail(start, "second %c/ field", kind)
		} else {
			seen[kind] = true
			*fields[kind] = val
			*m.templateOf(kind) = t
		}
		if i < len(line) && line[i] != ' ' && line[i] != '\t' {
			return p.fail(i, "unexpected %q after a version field", line[i])
		}
	}
	return nil
}

func (m *Match) templateOf(kind byte) *template {
	switch kind {
	case 'p':
		return &m.product
	case 'v':
		return &m.version
	case 'i':
		return &m.info
	case 'h':
		return &m.host
	case 'o':
		return &m.os
	}
	return &m.device
}

// oneLine keeps an engine message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
