package audit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/targets"
)

// The keys a policy may use, in the order error messages list them.
var (
	topKeys   = []string{"version", "scan", "groups"}
	groupKeys = []string{"name", "description", "targets", "exclude", "allow", "require", "deny", "other", "services", "deny_services", "tls"}
)

// settingKind says how a scan setting's value is checked.
type settingKind uint8

const (
	portSpec settingKind = iota // into a string
	count                       // a whole number >= 0, into an int
	rate                        // a number >= 0, into a float64
	duration                    // a positive Go duration: 500ms, 2s
	boolean
)

// scanKey is a key of the scan block: how its value is checked, and
// the setting of scan.Options it decodes into.
type scanKey struct {
	name    string
	kind    settingKind
	setting scan.Field
}

// scanKeys are the keys of the scan block.
var scanKeys = []scanKey{
	{"ports", portSpec, scan.Ports},
	{"exclude-ports", portSpec, scan.ExcludePorts},
	{"udp", boolean, scan.UDP},
	{"rate", rate, scan.Rate},
	{"retries", count, scan.Retries},
	{"concurrency", count, scan.Concurrency},
	{"host-group", count, scan.HostGroup},
	{"initial-rtt-timeout", duration, scan.InitialRTTTimeout},
	{"min-rtt-timeout", duration, scan.MinRTTTimeout},
	{"max-rtt-timeout", duration, scan.MaxRTTTimeout},
	{"skip-discovery", boolean, scan.SkipDiscovery},
	{"detect", boolean, scan.Detect},
}

func scanKeyNames() []string {
	out := make([]string, len(scanKeys))
	for i, k := range scanKeys {
		out[i] = k.name
	}
	return out
}

// Version is the policy format version this package reads.
const Version = 1

// parse walks the YAML tree; its methods fail with a *PolicyError.
type parse struct {
	file string
	opt  Options
}

func (p *parse) errorf(n ast.Node, format string, a ...any) error {
	return &PolicyError{File: p.file, Pos: posOf(n), Msg: fmt.Sprintf(format, a...)}
}

func posOf(n ast.Node) Pos {
	if n == nil {
		return Pos{1, 1}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{Line: max(tk.Position.Line, 1), Col: max(tk.Position.Column, 1)}
}

// Parse reads a policy from the YAML in src. name is the file name that
// errors and reports give. Every mistake is an error with the line and
// column and what was expected, found before anything is scanned:
// syntax, unknown keys, values of the wrong type, unknown service names,
// targets that do not parse, and rules that contradict each other. A
// policy larger than MaxSize or nested deeper than MaxDepth is refused
// before it is parsed.
func Parse(name string, src []byte, opt Options) (*Policy, error) {
	return parseLimited(name, src, opt, MaxSize, MaxDepth)
}

// parseLimited is Parse with the limits given, so tests can lower them.
func parseLimited(name string, src []byte, opt Options, maxSize, maxDepth int) (pol *Policy, err error) {
	defer func() {
		// The YAML library is not ours: a panic in it on strange input
		// must not take the program down.
		if r := recover(); r != nil {
			pol, err = nil, &PolicyError{File: name, Pos: Pos{1, 1}, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	if len(src) > maxSize {
		return nil, &PolicyError{File: name, Pos: Pos{1, 1}, Msg: fmt.Sprintf("policy larger than %s, the limit for a policy", sizeText(maxSize)), Err: ErrTooLarge}
	}
	// The lexer's cost grows with the size, which is bounded now; the
	// parser's grows with the square of the depth, bounded here first.
	tokens := lexer.Tokenize(string(src))
	if err := precheck(name, tokens, maxDepth); err != nil {
		return nil, err
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			pos := Pos{1, 1}
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				pos = Pos{Line: max(tk.Position.Line, 1), Col: max(tk.Position.Column, 1)}
			}
			return nil, &PolicyError{File: name, Pos: pos, Msg: "YAML: " + text.OneLine(ye.GetMessage())}
		}
		return nil, &PolicyError{File: name, Pos: Pos{1, 1}, Msg: "YAML: " + text.OneLine(err.Error())}
	}
	p := &parse{file: name, opt: opt}
	var docs []*ast.DocumentNode
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, &PolicyError{File: name, Pos: Pos{1, 1}, Msg: "empty policy; expected a mapping with a groups list"}
	case len(docs) > 1:
		return nil, p.errorf(docs[1].Body, "a second YAML document; a policy is one document")
	}
	return p.policy(docs[0].Body)
}

// precheck refuses, before the parser sees them, tokens nested deeper
// than maxDepth, and tags, anchors and aliases. The parser nests what
// follows a tag or an anchor under it, however it is indented, so a
// chain of them nests as deep as it is long.
func precheck(name string, tokens token.Tokens, maxDepth int) error {
	for _, tk := range tokens {
		switch tk.Type {
		case token.TagType:
			return &PolicyError{File: name, Pos: posOfToken(tk), Msg: "tags are not supported in a policy"}
		case token.AnchorType, token.AliasType:
			return &PolicyError{File: name, Pos: posOfToken(tk), Msg: "anchors and aliases are not supported in a policy"}
		}
	}
	if tk := tooDeep(tokens, maxDepth); tk != nil {
		return &PolicyError{File: name, Pos: posOfToken(tk), Msg: fmt.Sprintf("nesting deeper than %d levels, the limit for a policy", maxDepth), Err: ErrTooDeep}
	}
	return nil
}

func posOfToken(tk *token.Token) Pos {
	if tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{Line: max(tk.Position.Line, 1), Col: max(tk.Position.Column, 1)}
}

func sizeText(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// tooDeep returns the first token at which the YAML of tokens nests
// deeper than limit, or nil. It reads the lexer's tokens, as the parser
// will, so quoted strings, comments and block scalars are told from
// structure exactly as the parser tells them.
//
// Each flow list or mapping counts a level, and a key: value pair
// inside a flow list one more (an implicit mapping). Block collections
// count a level each: a block list at each new column of "-" (or at the
// column of the key it is the value of), a block mapping at each new
// column of keys.
func tooDeep(tokens token.Tokens, limit int) *token.Token {
	type block struct {
		col int
		seq bool
	}
	type flowColl struct {
		seq  bool
		pair bool // a list now holding a key: value, one level more
	}
	var (
		blocks []block
		flows  []flowColl
		flow   int // levels of flows
	)
	for i, tk := range tokens {
		switch tk.Type {
		case token.DocumentHeaderType:
			blocks = blocks[:0]
		case token.SequenceStartType, token.MappingStartType:
			flows = append(flows, flowColl{seq: tk.Type == token.SequenceStartType})
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if n := len(flows); n > 0 {
				if flows[n-1].pair {
					flow--
				}
				flows = flows[:n-1]
				flow--
			}
		case token.CollectEntryType:
			if n := len(flows); n > 0 && flows[n-1].pair {
				flows[n-1].pair = false
				flow--
			}
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if n := len(flows); n > 0 {
				if tk.Type == token.MappingValueType && flows[n-1].seq && !flows[n-1].pair {
					flows[n-1].pair = true
					flow++
				}
				break
			}
			if tk.Position == nil {
				continue
			}
			b := block{col: tk.Position.Column, seq: tk.Type == token.SequenceEntryType}
			if tk.Type == token.MappingValueType {
				// The mapping is at its key's column.
				if k := prevToken(tokens, i); k != nil && k.Position != nil {
					b.col = k.Position.Column
				}
			}
			for len(blocks) > 0 && blocks[len(blocks)-1].col > b.col {
				blocks = blocks[:len(blocks)-1]
			}
			if n := len(blocks); n > 0 && blocks[n-1].col == b.col && blocks[n-1].seq && !b.seq {
				// A key at the column of a list that was a key's value:
				// the list has ended.
				blocks = blocks[:n-1]
			}
			if n := len(blocks); n == 0 || blocks[n-1] != b {
				blocks = append(blocks, b)
			}
		default:
			continue
		}
		if len(blocks)+flow > limit {
			if k := prevToken(tokens, i); tk.Type == token.MappingValueType && k != nil {
				return k // the key that starts the mapping
			}
			return tk
		}
	}
	return nil
}

// prevToken returns the token before tokens[i], comments left out.
func prevToken(tokens token.Tokens, i int) *token.Token {
	for i--; i >= 0; i-- {
		if tokens[i].Type != token.CommentType {
			return tokens[i]
		}
	}
	return nil
}

// mapping checks that n is a mapping whose keys are all in known, and
// returns its entries. where names the mapping in errors.
func (p *parse) mapping(n ast.Node, where string, known []string) ([]*ast.MappingValueNode, error) {
	n, err := p.plain(n)
	if err != nil {
		return nil, err
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return nil, p.errorf(n, "%s: expected a mapping with keys %s, found %s", where, strings.Join(known, ", "), describe(n))
	}
	for _, mv := range m.Values {
		key, ok := scalar(mv.Key)
		if !ok || !slices.Contains(known, key) {
			return nil, p.errorf(mv.Key, "unknown key %q %s; expected one of %s", key, where, strings.Join(known, ", "))
		}
	}
	return m.Values, nil
}

// plain rejects the YAML features a policy has no use for, which would
// make positions and values hard to follow.
func (p *parse) plain(n ast.Node) (ast.Node, error) {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		return nil, p.errorf(n, "anchors and aliases are not supported in a policy")
	case *ast.TagNode:
		return nil, p.errorf(n, "tags are not supported in a policy")
	case *ast.MergeKeyNode:
		return nil, p.errorf(n, "merge keys are not supported in a policy")
	}
	return n, nil
}

// scalar returns the text of a scalar node as written (unquoted).
func scalar(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
	}
	return "", false
}

func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		if len(n.(*ast.SequenceNode).Values) == 0 {
			return "an empty list"
		}
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.IntegerNode, *ast.FloatNode:
		return "a number"
	}
	if s, ok := scalar(n); ok {
		return strconv.Quote(s)
	}
	return n.Type().String()
}

// str reads a scalar that must be a string.
func (p *parse) str(n ast.Node, what string) (string, error) {
	n, err := p.plain(n)
	if err != nil {
		return "", err
	}
	s, ok := scalar(n)
	if !ok {
		return "", p.errorf(n, "%s: expected a string, found %s", what, describe(n))
	}
	return s, nil
}

// list reads a list of scalars, or a single scalar as a list of one.
func (p *parse) list(n ast.Node, what, expected string) ([]ast.Node, error) {
	n, err := p.plain(n)
	if err != nil {
		return nil, err
	}
	if _, ok := scalar(n); ok {
		return []ast.Node{n}, nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, p.errorf(n, "%s: expected a list of %s, found %s", what, expected, describe(n))
	}
	out := make([]ast.Node, 0, len(seq.Values))
	for _, v := range seq.Values {
		v, err := p.plain(v)
		if err != nil {
			return nil, err
		}
		if _, ok := scalar(v); !ok {
			return nil, p.errorf(v, "%s: expected %s, found %s", what, expected, describe(v))
		}
		out = append(out, v)
	}
	return out, nil
}

func (p *parse) policy(body ast.Node) (*Policy, error) {
	entries, err := p.mapping(body, "at the top level", topKeys)
	if err != nil {
		return nil, err
	}
	pol := &Policy{File: p.file, now: p.opt.Now}
	var groups *ast.MappingValueNode
	for _, mv := range entries {
		key, _ := scalar(mv.Key)
		switch key {
		case "version":
			v, err := p.str(mv.Value, "version")
			if err != nil {
				return nil, err
			}
			if v != strconv.Itoa(Version) {
				if _, err := strconv.ParseUint(v, 10, 31); err != nil {
					v = strconv.Quote(v) // not a number: it may hold anything
				}
				return nil, p.errorf(mv.Value, "version %s: this portscan reads policy version %d", v, Version)
			}
		case "scan":
			if err := p.scan(mv.Value, pol); err != nil {
				return nil, err
			}
		case "groups":
			groups = mv
		}
	}
	if groups == nil {
		return nil, p.errorf(body, "no groups: a policy needs a groups list")
	}
	v, err := p.plain(groups.Value)
	if err != nil {
		return nil, err
	}
	seq, ok := v.(*ast.SequenceNode)
	if !ok || len(seq.Values) == 0 {
		return nil, p.errorf(v, "groups: expected a list of groups (mappings with name, targets and rules), found %s", describe(v))
	}
	seen := map[string]Pos{}
	for _, gn := range seq.Values {
		g, err := p.group(gn)
		if err != nil {
			return nil, err
		}
		if at, dup := seen[g.Name]; dup {
			return nil, &PolicyError{File: p.file, Pos: g.Pos, Msg: fmt.Sprintf("group %q is defined twice (first at line %d)", g.Name, at.Line)}
		}
		seen[g.Name] = g.Pos
		pol.Groups = append(pol.Groups, g)
	}
	return pol, nil
}

// scan decodes the scan block into pol.Scan, and keeps each setting
// as written in pol.Settings.
func (p *parse) scan(n ast.Node, pol *Policy) error {
	entries, err := p.mapping(n, "in scan", scanKeyNames())
	if err != nil {
		return err
	}
	for _, mv := range entries {
		name, _ := scalar(mv.Key)
		key := scanKeys[slices.IndexFunc(scanKeys, func(k scanKey) bool { return k.name == name })]
		s, err := p.setting(&pol.Scan, key, mv.Value)
		if err != nil {
			return err
		}
		pol.Settings = append(pol.Settings, s)
	}
	return nil
}

// setting checks the value of one scan setting and decodes it into o.
func (p *parse) setting(o *scan.Options, key scanKey, n ast.Node) (Setting, error) {
	what := "scan " + key.name
	n, err := p.plain(n)
	if err != nil {
		return Setting{}, err
	}
	s := Setting{Name: key.name, Pos: posOf(n)}
	if key.kind == portSpec {
		items, err := p.list(n, what, "ports (22, 8000-8100, ssh, 53/udp)")
		if err != nil {
			return Setting{}, err
		}
		var texts []string
		for _, it := range items {
			t, _ := scalar(it)
			if _, err := p.ports(it, t, what); err != nil {
				return Setting{}, err
			}
			texts = append(texts, t)
		}
		s.Value = strings.Join(texts, ",")
		*o.Setting(key.setting).(*string) = s.Value
		o.Given |= key.setting
		return s, nil
	}
	v, ok := scalar(n)
	if !ok {
		return Setting{}, p.errorf(n, "%s: expected a single value, found %s", what, describe(n))
	}
	s.Value = v
	switch dst := o.Setting(key.setting); key.kind {
	case count:
		x, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return Setting{}, p.errorf(n, "%s: expected a whole number, 0 or more, found %q", what, v)
		}
		s.Value = strconv.FormatUint(x, 10)
		*dst.(*int) = int(x)
	case rate:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return Setting{}, p.errorf(n, "%s: expected probes per second, a number 0 or more, found %q", what, v)
		}
		*dst.(*float64) = x
	case duration:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Setting{}, p.errorf(n, "%s: expected a duration such as 500ms or 2s, found %q", what, v)
		}
		*dst.(*time.Duration) = d
	case boolean:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			return Setting{}, p.errorf(n, "%s: expected true or false, found %q", what, v)
		}
		s.Value = strings.ToLower(v)
		*dst.(*bool) = b.Value
	}
	o.Given |= key.setting
	return s, nil
}

// ports reads one port entry with the catalog; text is its scalar text.
func (p *parse) ports(n ast.Node, text, what string) (*ports.Set, error) {
	set, err := ports.ParseSpec(text, ports.SpecOptions{Lookup: p.opt.Lookup})
	if err == nil {
		return set, nil
	}
	pe := &PolicyError{File: p.file, Pos: posOf(n), Msg: what + ": " + err.Error()}
	var se *ports.SpecError
	if errors.As(err, &se) && !strings.Contains(text, "\n") {
		tk := n.GetToken()
		if tk.Type == token.SingleQuoteType || tk.Type == token.DoubleQuoteType {
			pe.Pos.Col++
		}
		if tk.Type != token.DoubleQuoteType || !strings.ContainsRune(tk.Origin, '\\') {
			pe.Pos.Col += se.Offset
		}
	}
	if errors.Is(err, ports.ErrUnknownService) {
		pe.Msg += "; expected a port (443), a range (8000-8100), a service name from the catalog, with /tcp or /udp if need be"
	}
	return nil, pe
}

func (p *parse) group(n ast.Node) (*Group, error) {
	n, err := p.plain(n)
	if err != nil {
		return nil, err
	}
	g := &Group{Pos: posOf(n), Other: Fail, allowed: new(ports.Set), named: new(ports.Set), names: map[string]bool{}}
	// The name first, so that every other error can give it.
	if err := p.groupName(n, g); err != nil {
		return nil, err
	}
	where := "in a group"
	if g.Name != "" {
		where = fmt.Sprintf("in group %q", g.Name)
	}
	entries, err := p.mapping(n, where, groupKeys)
	if err != nil {
		return nil, err
	}
	if g.Name == "" {
		return nil, p.errorf(n, "group without a name; expected name, targets and rules")
	}
	g.OtherPos = g.Pos
	g.set = targets.NewSet(targets.Options{Resolve: p.opt.Resolve, Family: p.opt.Family})
	var denied []Rule
	for _, mv := range entries {
		key, _ := scalar(mv.Key)
		what := fmt.Sprintf("%s in group %q", key, g.Name)
		switch key {
		case "description":
			_, err = p.str(mv.Value, what)
		case "targets", "exclude":
			err = p.groupTargets(g, key, what, mv.Value)
		case "allow", "require", "deny":
			err = p.groupRules(g, key, what, mv.Value, &denied)
		case "other":
			err = p.groupOther(g, what, mv.Value)
		case "services":
			err = p.groupServices(g, what, mv.Value)
		case "deny_services":
			err = p.groupDenyServices(g, what, mv.Value)
		case "tls":
			err = p.groupTLS(g, where, mv.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(g.Targets) == 0 {
		return nil, &PolicyError{File: p.file, Pos: g.Pos, Msg: fmt.Sprintf("group %q has no targets; expected targets: [addresses, ranges, prefixes or host names]", g.Name)}
	}
	if err := p.groupConflicts(g, denied); err != nil {
		return nil, err
	}
	if err := p.detectionConflicts(g); err != nil {
		return nil, err
	}
	return g, nil
}

// groupName reads the name of the group mapping n, if it has one, into g.
func (p *parse) groupName(n ast.Node, g *Group) error {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return nil
	}
	for _, mv := range m.Values {
		if k, _ := scalar(mv.Key); k == "name" {
			var err error
			if g.Name, err = p.str(mv.Value, "group name"); err != nil {
				return err
			}
			if strings.TrimSpace(g.Name) == "" {
				return p.errorf(mv.Value, "group name: expected a name, found an empty string")
			}
			g.Pos = posOf(mv.Value)
		}
	}
	return nil
}

// groupTargets reads a group's targets or exclude list (key) into g.
func (p *parse) groupTargets(g *Group, key, what string, n ast.Node) error {
	items, err := p.list(n, what, "targets (addresses, ranges, prefixes, host names)")
	if err != nil {
		return err
	}
	for _, it := range items {
		text, _ := scalar(it)
		e := Entry{Text: text, Pos: posOf(it)}
		add := g.set.Add
		if key == "exclude" {
			add = g.set.Exclude
		}
		if err := add(text); err != nil {
			return p.errorf(it, "%s: %v", what, err)
		}
		if key == "exclude" {
			g.Exclude = append(g.Exclude, e)
			continue
		}
		g.Targets = append(g.Targets, e)
		for _, f := range strings.Fields(text) {
			if sp, err := targets.ParseSpec(f); err == nil && sp.Name() != "" {
				g.names[strings.ToLower(strings.TrimSuffix(sp.Name(), "."))] = true
			}
		}
	}
	return nil
}

// groupRules reads a group's allow, require or deny list (key) into g;
// the deny rules are added to denied too.
func (p *parse) groupRules(g *Group, key, what string, n ast.Node, denied *[]Rule) error {
	kind := map[string]Kind{"allow": Allow, "require": Require, "deny": Deny}[key]
	items, err := p.list(n, what, "ports (22, 8000-8100, ssh, 53/udp)")
	if err != nil {
		return err
	}
	for _, it := range items {
		text, _ := scalar(it)
		set, err := p.ports(it, text, what)
		if err != nil {
			return err
		}
		r := Rule{Kind: kind, Text: text, Pos: posOf(it), Ports: set}
		g.Rules = append(g.Rules, r)
		g.named.Union(set)
		if kind == Deny {
			*denied = append(*denied, r)
		} else {
			g.allowed.Union(set)
		}
	}
	return nil
}

// groupOther reads what a group does with other open ports.
func (p *parse) groupOther(g *Group, what string, n ast.Node) error {
	v, err := p.str(n, what)
	if err != nil {
		return err
	}
	switch strings.ToLower(v) {
	case "deny":
		g.Other = Fail
	case "warn":
		g.Other = Warn
	default:
		return p.errorf(n, "%s: expected deny or warn, found %q", what, v)
	}
	g.OtherPos = posOf(n)
	return nil
}

// groupConflicts refuses a port both allowed (or required) and denied.
func (p *parse) groupConflicts(g *Group, denied []Rule) error {
	for _, r := range g.Rules {
		if r.Kind == Deny {
			continue
		}
		for _, d := range denied {
			both := *r.Ports
			both.Intersect(d.Ports)
			if first, ok := firstPort(&both); ok {
				verb := map[Kind]string{Allow: "allowed", Require: "required"}[r.Kind]
				return &PolicyError{File: p.file, Pos: r.Pos, Msg: fmt.Sprintf("%s in group %q: %s is both %s by %q and denied by %q at line %d", r.Kind, g.Name, first, verb, r.Text, d.Text, d.Pos.Line)}
			}
		}
	}
	return nil
}

func firstPort(s *ports.Set) (ports.Port, bool) {
	for p := range s.Ports() {
		return p, true
	}
	return ports.Port{}, false
}
