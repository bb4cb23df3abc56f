package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

func newServicesCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "services [PORT | RANGE | PORT/PROTO | NAME]...",
		Short: "List the service catalog, or look up ports and names in it",
		Long: `services lists the whole catalog, or the entries for each PORT or
RANGE (every protocol: 22, 2600-2606, 20,21), PORT/PROTO (tcp, udp or ddp;
or T:80, U:53 as -p reads them), or service NAME or alias given.

Exit status: 0 all found; 1 something was not found; 2 malformed query.`,
		Example: `  portscan services
  portscan services 22 ssh 512/udp comsat 2600-2606
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
			if format != "text" && format != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("%w %q for services: want text or json", output.ErrFormat, format)}
			}
			// Nothing found: no empty table, just the message (JSON still
			// prints its empty array).
			if len(args) == 0 || len(entries) > 0 || format == "json" {
				if err := output.WriteCatalog(g.stdout, format, seq, opt); err != nil {
					return &exitError{code: exitFail, err: err}
				}
			}
			if len(missing) > 0 {
				return &exitError{code: exitFail, err: fmt.Errorf("not in the catalog: %s", strings.Join(missing, ", "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	completeWords(cmd, "format", "text", "json")
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
		if q != "" && (q[0] >= '0' && q[0] <= '9' || strings.HasPrefix(q, "T:") || strings.HasPrefix(q, "U:")) {
			// A port, range or list, as -p reads them; without a protocol
			// it means every protocol.
			set, perr := ports.ParseSpec(q, ports.SpecOptions{Protocols: []ports.Protocol{ports.TCP, ports.UDP, ports.DDP}})
			if perr != nil {
				return nil, nil, perr
			}
			for _, proto := range []ports.Protocol{ports.TCP, ports.UDP, ports.DDP} {
				for n := range set.All(proto) {
					add(c.Lookup(ports.Port{Number: n, Proto: proto}))
				}
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
