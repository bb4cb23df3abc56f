package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portscan/portscan/scan"
)

// nmapHelp is the scan's help section on nmap's spellings: each one
// translated (nmapAliases, nmapOutputs, nmapTiming) with the flag it
// stands for and that flag's help, and those refused (nmapUnsupported,
// nmapOutputsRefused). It is made
// from those tables, so a spelling added there shows here.
func nmapHelp(fl *pflag.FlagSet) string {
	byLong := map[string][]string{}
	for short, long := range nmapAliases {
		byLong[long] = append(byLong[long], short)
	}
	for letter, long := range nmapOutputs {
		byLong[long] = append(byLong[long], "-o"+string(letter))
	}
	var b strings.Builder
	b.WriteString("nmap spellings (translated to the flags above):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(shorts, long, usage string) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", shorts, long, usage)
	}
	for _, long := range slices.SortedFunc(maps.Keys(byLong), func(a, b string) int {
		a, b = slices.Min(byLong[a]), slices.Min(byLong[b])
		if c := spellingRank(a) - spellingRank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	}) {
		shorts := byLong[long]
		slices.Sort(shorts)
		name, value, _ := strings.Cut(strings.TrimPrefix(long, "--"), "=")
		usage := ""
		if f := fl.Lookup(name); f != nil {
			vname, u := pflag.UnquoteUsage(f)
			usage = firstClause(u)
			if value == "" && vname != "" && f.Value.Type() != "bool" {
				for i := range shorts {
					shorts[i] += " " + vname
				}
				long += " " + vname
			}
		}
		row(strings.Join(shorts, ", "), long, usage)
	}
	row("-T0 to -T5", "--timing N", "nmap's timing templates; also -T4, -T 4, -T aggressive ("+strings.Join(scan.TimingNames[:], ", ")+")")
	row("-PE, -PP", "--ping-echo, --ping-timestamp", "ICMP echo and timestamp pings (root or CAP_NET_RAW)")
	row("-PS, -PA, -PU [PORTS]", "--ping-syn, --ping-ack, --ping-udp PORTS", "TCP SYN, TCP ACK and UDP pings; ports glued or next: -PS22,80, -PS 22,80")
	tw.Flush()
	refused := slices.Sorted(maps.Keys(nmapUnsupported))
	for _, letter := range slices.Sorted(maps.Keys(pingRefused)) {
		refused = append(refused, "-P"+string(letter))
	}
	for _, letter := range slices.Sorted(maps.Keys(nmapOutputsRefused)) {
		refused = append(refused, "-o"+string(letter))
	}
	fmt.Fprintf(&b, "Refused, with the reason: %s\n", strings.Join(refused, " "))
	return b.String()
}

// firstClause is a flag's help up to its first parenthesis, colon or
// semicolon: what the flag does, without the details.
func firstClause(usage string) string {
	if i := strings.IndexAny(usage, "(:;"); i > 0 {
		usage = usage[:i]
	}
	return strings.TrimSpace(usage)
}

// spellingRank orders the spellings as a scan is described: scan
// types, discovery, ports, targets, outputs.
func spellingRank(short string) int {
	for i, prefix := range []string{"-s", "-P", "-p", "-F", "-i", "-o"} {
		if strings.HasPrefix(short, prefix) {
			return i
		}
	}
	return 6
}

// withNmapHelp adds the nmap spellings section to root's help, after
// its flags; subcommands, which inherit the template, do not show it.
func withNmapHelp(root *cobra.Command) {
	section := strings.ReplaceAll(nmapHelp(root.Flags()), "{{", "{{`{{`}}")
	tmpl := root.UsageTemplate()
	anchor := "{{if .HasAvailableInheritedFlags}}"
	insert := "{{if not .HasParent}}\n\n" + strings.TrimRight(section, "\n") + "{{end}}"
	if i := strings.Index(tmpl, anchor); i >= 0 {
		tmpl = tmpl[:i] + insert + tmpl[i:]
	} else {
		tmpl += insert
	}
	root.SetUsageTemplate(tmpl)
}
