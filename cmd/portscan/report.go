package main

import (
	"cmp"
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/output"
)

// reportFlags are the flags of the report subcommand.
type reportFlags struct {
	out, title string
	reason     bool
	show       []string
}

const reportLong = `report renders saved results as one HTML page, as --format html writes
a live scan's, without sending a packet: portscan's jsonl, json or XML,
nmap's XML (-oX), merged shards (portscan merge writes jsonl, json or
XML), or a packet capture, told from the content.

Several files are read as parts of one result set, as the shards of a
scan are: their hosts in one table in address order, a host named in
several with the ports of them all (a later file's word on a port wins).
Service descriptions come from the catalog (--lang picks the language)
where the catalog names the port as the file does.

The page is self-contained: its style and script are inline, and its
Content-Security-Policy forbids every request, so it can be opened from
a CI artifact or file:// and tells nobody.

Exit status: 0 the page is written; 2 usage error or a file that cannot
be read; 130 interrupted.`

// newReportCmd is the report subcommand: saved results into a page.
func newReportCmd(g *globals) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report [flags] FILES...",
		Short: "Render saved results (portscan's, nmap's XML, shards) as one HTML page",
		Long:  reportLong,
		Example: `  portscan report scan.jsonl -o report.html
  portscan report shard-*.jsonl --title "Nightly scan" -o report.html
  portscan report nmap-scan.xml -o nmap.html`,
		Args: needFiles("report: give one or more result files (portscan jsonl, json or XML, nmap XML)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "write the page to `FILE` instead of stdout (- is stdout)")
	fl.StringVar(&f.title, "title", "", "the page's title (default \"portscan report\")")
	fl.BoolVar(&f.reason, "reason", false, "show why each host is up or down")
	fl.StringSliceVar(&f.show, "show", nil, "also list ports in these `STATES`: closed, filtered, open|filtered; and down: hosts found down (comma-separated)")
	completeWords(cmd, "show", append(showWords, "down")...)
	return cmd
}

// runReport reads the files and writes the page: files -> baseline.Run
// -> baseline.Replay -> the html writer.
func runReport(ctx context.Context, g *globals, f *reportFlags, files []string) error {
	sf := &scanFlags{show: f.show}
	show, err := showStates(sf)
	if err != nil {
		return usageErr("%v", err)
	}
	all, down := shownInFull(sf)
	var ins []pathArg
	for _, path := range files {
		ins = append(ins, pathArg{flag: "input", path: path})
	}
	if err := checkPaths([]pathArg{{flag: "--output", path: cmp.Or(f.out, "-")}}, ins); err != nil {
		return usageErr("%v", err)
	}
	runs := make([]*baseline.Run, 0, len(files))
	for _, path := range files {
		run, err := baseline.ReadFileContext(ctx, path, baseline.ReadOptions{Label: g.catalog.Lookup})
		if err != nil {
			return inputErr("", err)
		}
		runs = append(runs, run)
	}
	return writeReport(g, f.out, func(w io.Writer, _ bool) error {
		page, err := output.New("html", w, output.Options{Show: show, ShowAll: all, ShowDown: down, Reason: f.reason, Lang: g.lang, Title: f.title})
		if err != nil {
			return err
		}
		return baseline.Replay(ctx, runs, page, baseline.ReplayOptions{Label: g.catalog.Lookup, Lang: g.lang})
	})
}
