package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/baseline"
)

const diffLong = `diff compares two result files and lists what changed from OLD to NEW:
ports newly open, ports no longer open (and what they are now: closed,
filtered, open|filtered, not scanned, or not listed when NEW has no
record of them), and hosts that appeared or went away.

States are compared, and what service detection (-sV) found on ports
open in both runs: another service, or another product or version, when
both runs detected one there (a run without detection is no change).
Service labels come from each scanner's own catalog (nmap's
nmap-services, portscan's), so they differ by design: --labels also
lists open ports whose label changed.

Each file may be portscan's jsonl, json or XML output, nmap's XML (-oX),
or a packet capture (read as "portscan pcap" reads it); the format is
told from the content. Only the open state counts: open|filtered is not
open.

A scan or an audit takes --baseline FILE to make the same comparison
between a saved run and the one it makes.

Exit status: 0 no differences; 1 differences; 2 usage error or a file
that cannot be read.`

// newDiffCmd is the diff subcommand: it compares two result files.
func newDiffCmd(g *globals) *cobra.Command {
	var format, out string
	var opt baseline.CompareOptions
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "Compare two result files: ports opened and closed, hosts appeared and gone",
		Long:  diffLong,
		Example: `  portscan diff monday.jsonl tuesday.jsonl
  portscan diff --format json nmap-old.xml portscan-new.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("diff: give two result files, OLD and NEW (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), g, format, out, opt, args[0], args[1])
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "report format: text, json or html (a page for a browser)")
	completeWords(cmd, "format", "text", "json", "html")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the report to `FILE` instead of stdout (- is stdout)")
	cmd.Flags().BoolVar(&opt.Labels, "labels", false, "also list open ports whose service label changed")
	return cmd
}

func runDiff(ctx context.Context, g *globals, format, out string, copt baseline.CompareOptions, oldPath, newPath string) error {
	if format != "text" && format != "json" && format != "html" {
		return usageErr("invalid --format %q: want text, json or html", format)
	}
	ins := []pathArg{{flag: "OLD", path: oldPath}, {flag: "NEW", path: newPath}}
	if err := checkPaths([]pathArg{{flag: "--output", path: out}}, ins); err != nil {
		return usageErr("%v", err)
	}
	opt := baseline.ReadOptions{Label: g.catalog.Lookup}
	old, err := baseline.ReadFileContext(ctx, oldPath, opt)
	if err != nil {
		return inputErr("", err)
	}
	cur, err := baseline.ReadFileContext(ctx, newPath, opt)
	if err != nil {
		return inputErr("", err)
	}
	d := baseline.Compare(old, cur, copt)
	if err := writeReport(g, out, func(w io.Writer, colour bool) error {
		switch format {
		case "json":
			return d.WriteJSON(w)
		case "html":
			return d.WriteHTML(w, version)
		}
		return d.WriteText(w, colour)
	}); err != nil {
		return err
	}
	if !d.Empty() {
		return &exitError{code: exitFail}
	}
	return nil
}

// inputErr is the exit error of a result file that could not be read
// (after flag, if any): a usage error, or an interruption if the read
// was cancelled.
func inputErr(flag string, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case flag != "":
		return usageErr("%s: %v", flag, err)
	}
	return usageErr("%v", err)
}

// writeReport writes a report to stdout ("" or "-"), or to the file out; colour is
// decided for stdout only.
func writeReport(g *globals, out string, write func(w io.Writer, colour bool) error) error {
	if out == "" || out == "-" {
		if err := write(g.stdout, g.useColor(g.stdout)); err != nil {
			return &exitError{code: exitFail, err: fmt.Errorf("writing the report: %w", err)}
		}
		return nil
	}
	f, err := os.Create(out)
	if err != nil {
		return usageErr("--output: %v", err)
	}
	err = write(f, false)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &exitError{code: exitFail, err: fmt.Errorf("writing %s: %w", out, err)}
	}
	return nil
}
