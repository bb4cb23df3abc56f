package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portscan/portscan/audit"
	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/targets"
)

// auditFlags are the audit subcommand's own flags; the scan flags come
// from addScanFlags.
type auditFlags struct {
	policy, from       string
	junit, sarif, save string
}

const auditLong = `audit checks what is open against what should be open, and fails when
they differ: for CI pipelines and scheduled audits.

The policy (--policy FILE, YAML) names groups of hosts, each with the
ports that may be open (allow), must be open (require) and must never be
open (deny), and what to do with any other open port (other: deny or
warn):

  groups:
    - name: web
      targets: [198.18.0.1-5]
      allow: [ssh, http, 443/tcp, 8000-8100]
      require: [https]
      deny: [mysql, 23]
      other: deny        # or warn

A group may also have rules on what service detection finds: services
(a port, when open, must speak the service: {443/tcp: https}),
deny_services (services no port may speak: [telnet]) and tls
(min_version: "1.2", expires_within: 30d, self_signed: deny, warn or
allow). An open port detection did not run on makes such a rule a
warning, "not verified".

A "scan:" section may set ports, udp, rate, retries, concurrency,
host-group, the RTT timeouts, skip-discovery and detect; the flags of
the same names override it. The scan covers the policy's targets, and
always the ports its require, deny and services rules name; it runs
service detection when the policy has rules on detected services,
unless detect is given. A policy with a mistake is
refused, with its file, line and column, before anything is sent.

With --from FILE, audit judges results already made instead of scanning:
portscan's jsonl, json or XML, nmap's XML, or a packet capture.

Reports: text (coloured), --format json or --format html (one page for a
browser, violations first) on stdout or -o FILE, and --junit FILE,
--sarif FILE. When GITHUB_ACTIONS=true, each violation is
also an ::error (warnings ::warning) annotation on stdout, and a Markdown
summary is appended to $GITHUB_STEP_SUMMARY. --save FILE keeps the scan's
results as jsonl, to be the next run's --baseline.

Exit status: 0 all good; 1 violations, or differences from --baseline;
2 usage error, bad policy or unreadable input; 130 interrupted.`

// newAuditCmd is the audit subcommand: it scans (or reads results) and
// judges them against a policy.
func newAuditCmd(g *globals) *cobra.Command {
	var sf scanFlags
	var af auditFlags
	cmd := &cobra.Command{
		Use:   "audit --policy FILE [flags]",
		Short: "Check open ports against a policy of what should be open; exit 1 on violations",
		Long:  auditLong,
		Example: `  portscan audit --policy policy.yaml
  portscan audit --policy policy.yaml --junit audit.xml --sarif audit.sarif
  portscan audit --policy policy.yaml --baseline last.jsonl --save last.jsonl
  portscan audit --policy policy.yaml --from nmap-scan.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("audit takes no arguments (got %q): the targets are the policy's groups", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), g, cmd.Flags(), &sf, &af)
		},
	}
	addScanFlags(cmd, &sf)
	fl := cmd.Flags()
	// --format and -o name the report here, not the scan's results.
	fl.Lookup("format").Usage = "report format: text, json or html (a page for a browser)"
	completeWords(cmd, "format", "text", "json", "html")
	fl.Lookup("output").Usage = "write the report to `FILE` instead of stdout (- is stdout)"
	fl.Lookup("baseline").Usage = "compare the results with the saved run in `FILE` too; differences fail the audit"
	fl.StringVar(&af.policy, "policy", "", "the policy `FILE` (YAML) (required)")
	fl.StringVar(&af.from, "from", "", "judge the results in `FILE` (portscan jsonl/json/XML, nmap XML, pcap) instead of scanning")
	fl.StringVar(&af.junit, "junit", "", "also write the report as JUnit XML to `FILE`")
	fl.StringVar(&af.sarif, "sarif", "", "also write the violations as SARIF 2.1.0 to `FILE`")
	fl.StringVar(&af.save, "save", "", "save the scan's results as jsonl to `FILE` (may be the --baseline file; - for stdout)")
	return cmd
}

func runAudit(ctx context.Context, g *globals, fl *pflag.FlagSet, sf *scanFlags, af *auditFlags) error {
	if af.policy == "" {
		return usageErr("audit: --policy FILE is required")
	}
	if sf.format != "text" && sf.format != "json" && sf.format != "html" {
		return usageErr("invalid --format %q: want text, json or html", sf.format)
	}
	if af.from != "" && af.save != "" {
		return usageErr("--save keeps a scan's results; with --from there is no scan")
	}
	sf.parsed(fl, nil)
	if err := sf.check(); err != nil {
		return usageErr("%v", err)
	}
	if sf.opts.Given&(scan.Shard|scan.Shards|scan.ShardIndex) != 0 {
		return usageErr("audit judges whole hosts, not a shard's share of their ports: scan the shards, merge their outputs, and audit --from the merged file")
	}
	if err := checkPaths(auditPaths(g, sf, af)); err != nil {
		return usageErr("%v", err)
	}
	family := targets.IPv4
	if sf.opts.IPv6 {
		family = targets.IPv6
	}
	pol, err := audit.Load(af.policy, audit.Options{Lookup: g.catalog.Ports, Resolve: g.resolve, Family: family})
	if err != nil {
		return usageErr("%v", err)
	}
	readOpt := baseline.ReadOptions{Label: g.catalog.Lookup}
	var old *baseline.Run
	if sf.baseline != "" {
		if old, err = baseline.ReadFileContext(ctx, sf.baseline, readOpt); err != nil {
			return inputErr("--baseline", err)
		}
	}

	var run *baseline.Run
	if af.from != "" {
		if run, err = baseline.ReadFileContext(ctx, af.from, readOpt); err != nil {
			return inputErr("--from", err)
		}
	} else if run, err = auditScan(ctx, g, sf, af, pol); err != nil {
		return err
	}

	rep, err := audit.Judge(ctx, pol, run)
	if err != nil {
		return &exitError{code: exitFail, err: err}
	}
	rep.Version, rep.Time = version, time.Now()
	if af.from == "" && autoDetect(sf, pol) {
		rep.Notes = append([]string{"detection on: the policy has service rules"}, rep.Notes...)
	}
	if old != nil {
		rep.Diff = baseline.Compare(old, run, baseline.CompareOptions{})
	}
	if err := writeAuditReports(g, sf, af, rep); err != nil {
		return err
	}
	if rep.Failed() {
		return &exitError{code: exitFail, err: fmt.Errorf("audit failed: %s", rep.Summary())}
	}
	return nil
}

// auditPaths are the files an audit writes (the report, --junit,
// --sarif, --save and the scan's nmap outputs) and reads; --save may be
// the --baseline file, as documented, since the baseline is read first.
func auditPaths(g *globals, sf *scanFlags, af *auditFlags) (outs, ins []pathArg) {
	outs = []pathArg{{flag: "--output", path: cmp.Or(sf.out, "-")}, {flag: "--junit", path: af.junit}, {flag: "--sarif", path: af.sarif}, {flag: "--save", path: af.save}}
	scanF := *sf
	scanF.noMain = true
	outs = append(outs, scanF.outputPaths()...)
	ins = []pathArg{{flag: "--policy", path: af.policy}, {flag: "--from", path: af.from},
		{flag: "--baseline", path: sf.baseline, sharedBy: func(flag string) bool { return flag == "--save" }}}
	for _, c := range g.catalogs {
		ins = append(ins, pathArg{flag: "--services", path: c})
	}
	return outs, ins
}

// auditOptions are the options of an audit's scan: the policy's scan
// block over the flags' defaults, the flags given explicitly over the
// block; the policy's targets, and always the ports its rules name.
func auditOptions(sf *scanFlags, pol *audit.Policy) scan.Options {
	o := sf.opts
	o.Override(pol.Scan)
	o.Override(sf.opts)
	// A UDP audit still checks TCP: both in one run.
	if o.UDP && !o.Given.Has(scan.TCP) {
		o.TCP = true
	}
	o.Targets = pol.Targets()
	o.Always = pol.Ports()
	if autoDetect(sf, pol) {
		o.Detect = true
	}
	return o
}

// autoDetect says whether the audit's scan turns service detection on
// by itself: the policy has rules on detected services, and neither its
// scan block nor a flag says whether to detect.
func autoDetect(sf *scanFlags, pol *audit.Policy) bool {
	return pol.Detects() && !pol.Scan.Given.Has(scan.Detect) && !sf.opts.Given.Has(scan.Detect)
}

// auditScan scans the policy's targets, and collects the results.
func auditScan(ctx context.Context, g *globals, sf *scanFlags, af *auditFlags, pol *audit.Policy) (*baseline.Run, error) {
	scanF := *sf
	scanF.opts = auditOptions(sf, pol)
	// The scan's own output is the --save file, in jsonl, or nothing.
	scanF.format, scanF.out, scanF.baseline, scanF.noMain = "jsonl", af.save, "", af.save == ""
	gs := *g
	job, err := buildScan(ctx, &gs, &scanF)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	run := baseline.NewRun("scan")
	job.sinks = append(job.sinks, run.Writer(baseline.WriterOptions{Keep: scanF.opts.Always}))
	if err := runScan(ctx, &gs, &scanF, job); err != nil {
		return nil, err
	}
	return run, nil
}

// writeAuditReports writes the report in every form asked for.
func writeAuditReports(g *globals, sf *scanFlags, af *auditFlags, rep *audit.Report) error {
	if err := writeReport(g, sf.out, func(w io.Writer, colour bool) error {
		switch sf.format {
		case "json":
			return rep.WriteJSON(w)
		case "html":
			return rep.WriteHTML(w)
		}
		return rep.WriteText(w, colour)
	}); err != nil {
		return err
	}
	for _, extra := range []struct {
		flag, path string
		write      func(io.Writer) error
	}{{"--junit", af.junit, rep.WriteJUnit}, {"--sarif", af.sarif, rep.WriteSARIF}} {
		if extra.path == "" {
			continue
		}
		if err := writeReport(g, extra.path, func(w io.Writer, _ bool) error { return extra.write(w) }); err != nil {
			return err
		}
	}
	if os.Getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	if err := rep.WriteGitHubAnnotations(g.stdout); err != nil {
		return &exitError{code: exitFail, err: err}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return &exitError{code: exitFail, err: fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)}
		}
		err = rep.WriteMarkdown(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return &exitError{code: exitFail, err: fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)}
		}
	}
	return nil
}
