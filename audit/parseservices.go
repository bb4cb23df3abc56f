package audit

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// tlsKeys are the keys of a group's tls mapping.
var tlsKeys = []string{"min_version", "expires_within", "self_signed"}

// serviceNames reads a services value or a deny_services list: one
// service name or a list of them.
func (p *parse) serviceNames(n ast.Node, what string) ([]string, []Pos, error) {
	items, err := p.list(n, what, "service names (https, ssh, ssl/http)")
	if err != nil {
		return nil, nil, err
	}
	var names []string
	var at []Pos
	for _, it := range items {
		name, _ := scalar(it)
		if err := checkServiceName(name); err != nil {
			return nil, nil, p.errorf(it, "%s: %v, found %q", what, err, name)
		}
		names = append(names, name)
		at = append(at, posOf(it))
	}
	return names, at, nil
}

// groupServices reads a group's services mapping, port entry to the
// service (or services) it must speak, into g.Detection.
func (p *parse) groupServices(g *Group, what string, n ast.Node) error {
	n, err := p.plain(n)
	if err != nil {
		return err
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return p.errorf(n, "%s: expected a mapping of ports to service names (443/tcp: https), found %s", what, describe(n))
	}
	for _, mv := range m.Values {
		key, err := p.plain(mv.Key)
		if err != nil {
			return err
		}
		port, ok := scalar(key)
		if !ok {
			return p.errorf(key, "%s: expected a port (443, https, 53/udp) as the key, found %s", what, describe(key))
		}
		set, err := p.ports(key, port, what)
		if err != nil {
			return err
		}
		names, _, err := p.serviceNames(mv.Value, fmt.Sprintf("%s, port %s", what, port))
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return p.errorf(mv.Value, "%s, port %s: expected a service name or a list of them, found an empty list", what, port)
		}
		g.Detection = append(g.Detection, Rule{Kind: Service, Text: port + " " + strings.Join(names, ","), Pos: posOf(key), Ports: set, Names: names})
	}
	return nil
}

// groupDenyServices reads a group's deny_services list into g.Detection.
func (p *parse) groupDenyServices(g *Group, what string, n ast.Node) error {
	names, at, err := p.serviceNames(n, what)
	if err != nil {
		return err
	}
	for i, name := range names {
		g.Detection = append(g.Detection, Rule{Kind: DenyService, Text: name, Pos: at[i], Names: []string{name}})
	}
	return nil
}

// groupTLS reads a group's tls mapping into g.Detection: a rule for
// each of min_version, expires_within, and self_signed but allow.
func (p *parse) groupTLS(g *Group, where string, n ast.Node) error {
	entries, err := p.mapping(n, "in tls "+where, tlsKeys)
	if err != nil {
		return err
	}
	for _, mv := range entries {
		key, _ := scalar(mv.Key)
		what := fmt.Sprintf("tls %s %s", key, where)
		v, err := p.str(mv.Value, what)
		if err != nil {
			return err
		}
		r := Rule{Text: v, Pos: posOf(mv.Value)}
		switch key {
		case "min_version":
			var ok bool
			if r.Version, ok = policyTLSVersion(v); !ok {
				return p.errorf(mv.Value, "%s: expected 1.0, 1.1, 1.2 or 1.3, found %q", what, v)
			}
			r.Kind = TLSVersion
		case "expires_within":
			var ok bool
			if r.Within, ok = parseWithin(v); !ok {
				return p.errorf(mv.Value, "%s: expected a duration more than zero such as 30d, 720h or 1d12h, found %q", what, v)
			}
			r.Kind = TLSExpiry
		case "self_signed":
			switch strings.ToLower(v) {
			case "deny":
				r.Action = Fail
			case "warn":
				r.Action = Warn
			case "allow":
				continue
			default:
				return p.errorf(mv.Value, "%s: expected deny, warn or allow, found %q", what, v)
			}
			r.Kind, r.Text = TLSSelfSigned, strings.ToLower(v)
		}
		g.Detection = append(g.Detection, r)
	}
	return nil
}

// detectionConflicts refuses a services entry whose every name the
// group's deny_services denies.
func (p *parse) detectionConflicts(g *Group) error {
	denied := map[string]Rule{}
	for _, r := range g.Detection {
		if r.Kind == DenyService {
			denied[strings.ToLower(r.Names[0])] = r
		}
	}
	for _, r := range g.Detection {
		if r.Kind != Service {
			continue
		}
		var d Rule
		all := true
		for _, name := range r.Names {
			var ok bool
			if d, ok = denied[strings.ToLower(name)]; !ok {
				all = false
			}
		}
		if all {
			port, _, _ := strings.Cut(r.Text, " ")
			return &PolicyError{File: p.file, Pos: r.Pos, Msg: fmt.Sprintf("services in group %q: %s must speak %s, which deny_services denies (%q at line %d)",
				g.Name, port, strings.Join(r.Names, " or "), d.Text, d.Pos.Line)}
		}
	}
	return nil
}
