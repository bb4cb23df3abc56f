package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

func newServicesCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "services [PORT | PORT/PROTO | NAME]...",
		Short: "List the service catalog, or look up ports and names in it",
		Long: `services lists the whole catalog, or the entries for each PORT (both
protocols), PORT/PROTO (tcp, udp or ddp), or service NAME or alias given.

Exit status: 0 all found; 1 something was not found; 2 malformed query.`,
		Example: `  portscan services
  portscan services 22 ssh 512/udp comsat
  portscan services --format json --lang zh 80`,
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, missing, err := lookupServices(g.catalog, args)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			opt := output.Options{Color: g.useColor(g.stdout), Lang: g.lang}
			seq := func(yield func(*services.Entry) bool) {
				for _, e := range entries {
					if !yield(e) {
						return
					}
				}
			}
			if len(args) == 0 {
				seq = g.catalog.All()
			}
			if err := output.WriteCatalog(g.stdout, format, seq, opt); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if len(missing) > 0 {
				return &exitError{code: exitFail, err: fmt.Errorf("not in the catalog: %s", strings.Join(missing, ", "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// lookupServices resolves each query to catalog entries. A query that is
// well formed but matches nothing is returned in missing; a malformed one
// is an error.
func lookupServices(c *services.Catalog, queries []string) (entries []*services.Entry, missing []string, err error) {
	seen := make(map[*services.Entry]bool)
	var found bool
	add := func(e *services.Entry) {
		if e == nil {
			return
		}
		found = true
		if !seen[e] {
			seen[e] = true
			entries = append(entries, e)
		}
	}
	for _, q := range queries {
		found = false
		numStr, protoStr, hasProto := strings.Cut(q, "/")
		if q != "" && q[0] >= '0' && q[0] <= '9' {
			num, perr := strconv.ParseUint(numStr, 10, 32)
			if perr != nil || num == 0 || num > 65535 {
				return nil, nil, fmt.Errorf("invalid port %q: ports run 1-65535", numStr)
			}
			protos := []ports.Protocol{ports.TCP, ports.UDP, ports.DDP}
			if hasProto {
				p, perr := ports.ParseProtocol(protoStr)
				if perr != nil {
					return nil, nil, fmt.Errorf("invalid protocol in %q: want tcp, udp or ddp", q)
				}
				protos = []ports.Protocol{p}
			}
			for _, p := range protos {
				add(c.Lookup(ports.Port{Number: uint16(num), Proto: p}))
			}
		} else {
			if q == "" || strings.ContainsAny(q, " \t,/") {
				return nil, nil, fmt.Errorf("invalid service name %q", q)
			}
			for _, e := range c.ByName(q) {
				add(e)
			}
		}
		if !found {
			missing = append(missing, q)
		}
	}
	return entries, missing, nil
}
