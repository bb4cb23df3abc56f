package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/merge"
	"github.com/portscan/portscan/output"
)

// mergeFlags are the flags of the merge subcommand.
type mergeFlags struct {
	format, out  string
	force        bool
	open, reason bool
	show         []string
	xsl          xslFlags
}

const mergeLong = `merge joins result files of one scan into one report: the outputs of its
shards (--shard), of a run and the runs that resumed it (--resume), in
portscan's jsonl, json or XML, or nmap's XML. The report is written in any
output format, as a scan writes it, and audit --from, diff and --baseline
read it as they read a scan's.

Hosts come in target order, each port once: open or closed over filtered
and open|filtered, the later over the earlier; a host is up if any file
saw it up; counts and the summary are recounted.

Files of different scans (their fingerprints differ, or one has none
beside others that have one, such as nmap's XML) and shards of
different splits are refused unless --force. Each file is read twice,
so standard input cannot be merged.

Exit status: 0 success; 1 the report could not be written; 2 usage
error, or a file that is not a result file or not of the scan;
130 interrupted; 141 the reader of standard output went away.`

// newMergeCmd is the merge subcommand: it joins result files.
func newMergeCmd(g *globals) *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{
		Use:   "merge [flags] FILES...",
		Short: "Join the outputs of a scan's shards and resumed runs into one report",
		Long:  mergeLong,
		Example: `  portscan merge --format jsonl -o scan.jsonl shard-*.jsonl
  portscan merge --format xml -o scan.xml part1.jsonl part2.json part3.xml`,
		Args: needFiles("merge: give the result files to merge"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "report format: text, jsonl, json, csv, xml (nmap XML) or grepable (nmap -oG)")
	fl.StringVarP(&f.out, "output", "o", "", "write the report to `FILE` instead of stdout (- is stdout)")
	fl.BoolVar(&f.force, "force", false, "merge files of different scans, or shards of different splits")
	fl.BoolVar(&f.open, "open", false, "show only ports that may be open: open, open|filtered")
	fl.StringSliceVar(&f.show, "show", nil, "also list ports in these `STATES` (closed, filtered, open|filtered) among those the files list; down: list down hosts")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state")
	addXSLFlags(cmd, &f.xsl)
	completeWords(cmd, "format", output.Formats()...)
	completeWords(cmd, "show", append(showWords, "down")...)
	return cmd
}

// runMerge checks the flags, indexes the files, then writes the report:
// flags -> merge.Open -> merge.Run -> writer.
func runMerge(ctx context.Context, g *globals, f *mergeFlags, files []string) error {
	sf := &scanFlags{open: f.open, show: f.show}
	show, err := showStates(sf)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if !output.Known(f.format) {
		return usageErr("%v %q: want one of %s", output.ErrFormat, f.format, strings.Join(output.Formats(), ", "))
	}
	ins := make([]pathArg, len(files))
	for i, p := range files {
		ins[i] = pathArg{flag: "input", path: p}
	}
	if err := checkPaths([]pathArg{{flag: "--output", path: f.out}}, ins); err != nil {
		return usageErr("%v", err)
	}
	if os.Getenv("GOGC") == "" {
		// The index a merge keeps is long-lived and holds no pointers, so
		// a collection costs little: collecting at 40% growth rather than
		// the default 100% keeps the garbage of the records read back
		// from doubling the index's memory (bench/merge.sh: 123 MB, not
		// 167 MB, for 4 files of a million records).
		defer debug.SetGCPercent(debug.SetGCPercent(40))
	}
	m, err := merge.Open(ctx, files, merge.Options{Force: f.force, Label: g.catalog.Lookup, Version: version, Lang: g.lang})
	if err != nil {
		return inputErr("", err)
	}
	defer m.Close()
	if !g.quiet {
		for _, n := range m.Notes() {
			fmt.Fprintf(g.stderr, "portscan: merge: %s\n", text.OneLine(n))
		}
	}
	dest, colour := g.stdout, false
	if f.out == "" || f.out == "-" {
		colour = g.useColor(g.stdout)
	} else {
		file, err := os.Create(f.out)
		if err != nil {
			return usageErr("--output: %v", err)
		}
		defer file.Close()
		dest = file
	}
	all, down := shownInFull(sf)
	w, err := output.New(f.format, dest, output.Options{Show: show, ShowAll: all, ShowDown: down, Color: colour, Lang: g.lang,
		Reason: f.reason, Stylesheet: f.xsl.href()})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := w.Begin(m.Info()); err != nil {
		return &exitError{code: exitFail, err: err}
	}
	sum, err := m.Run(ctx, w)
	if errors.Is(err, context.Canceled) {
		sum.Interrupted = true
	}
	if eerr := w.End(sum); err == nil {
		err = eerr
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; the report so far is written")}
	case err != nil:
		return &exitError{code: exitFail, err: err}
	}
	return nil
}
