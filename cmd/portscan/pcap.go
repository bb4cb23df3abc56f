package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
)

// pcapFlags are the flags of the pcap subcommand.
type pcapFlags struct {
	format, out  string
	open, reason bool
	show         []string
	packets      bool
	write        string
	idle         time.Duration
	maxFlows     int
	maxServices  int
	xsl          xslFlags
}

const pcapLong = `pcap reads packet captures and reports the services their traffic shows:
which server ports on which hosts were open or closed, labelled from the
catalog, in the same formats as a scan, with source "pcap".

It reads pcap and pcapng files, gzip-compressed or not; - is standard input.
Several files are read as one capture. Evidence, per server port:
  SYN-ACK answering a SYN                      open      syn-ack
  RST answering a SYN                          closed    reset
  server segments, handshake not captured      open      mid-stream
  a UDP reply from the port the client used    open      udp-response
  ICMP port unreachable from the server        closed    port-unreach
  other ICMP unreachables                      filtered  host-unreach, admin-prohibited...
  a SYN nothing answered                       filtered  no-response
  UDP nothing answered                         open|filtered no-response

Exit status: 0 success; 1 a capture was truncated or corrupt (what was read
before the damage is still reported); 2 usage error or missing file;
130 interrupted; 141 the reader of standard output went away.`

// newPcapCmd is the pcap subcommand: it reads capture files and reports
// the services their traffic shows.
func newPcapCmd(g *globals) *cobra.Command {
	var f pcapFlags
	cmd := &cobra.Command{
		Use:   "pcap [flags] FILES...",
		Short: "Report the open and closed services a packet capture shows",
		Long:  pcapLong,
		Example: `  portscan pcap capture.pcapng
  portscan pcap --show closed --reason day1.pcap.gz day2.pcap.gz
  portscan pcap --packets -w annotated.pcapng capture.pcap
  tcpdump -w - -i eth0 | portscan pcap --format jsonl -`,
		Args: needFiles("pcap: give one or more capture files (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPcap(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, jsonl, json, csv, xml (nmap XML), grepable (nmap -oG) or html (a page for a browser)")
	fl.StringVarP(&f.out, "output", "o", "", "write the report to `FILE` instead of stdout (- is stdout)")
	fl.BoolVar(&f.open, "open", false, "show only open ports")
	fl.StringSliceVar(&f.show, "show", nil, "also list ports in these `STATES`: closed, filtered, open|filtered (comma-separated)")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state")
	fl.BoolVar(&f.packets, "packets", false, "print one tcpdump-like line per packet, with the service of each known port, before the report")
	fl.StringVarP(&f.write, "write", "w", "", "write a copy of the capture as pcapng to `FILE` (- for stdout), each packet commented with its service")
	fl.DurationVar(&f.idle, "idle-timeout", capture.DefaultIdleTimeout, "capture time after which a silent flow is closed and counted")
	fl.IntVar(&f.maxFlows, "max-flows", capture.DefaultMaxFlows, "most flows followed at once; the least recently active is closed early beyond it")
	fl.IntVar(&f.maxServices, "max-services", capture.DefaultMaxServices, "most services reported; flows to others are only counted")
	addXSLFlags(cmd, &f.xsl)
	completeWords(cmd, "format", output.Formats()...)
	completeWords(cmd, "show", showWords...)
	return cmd
}

// runPcap reads the captures and writes the report: flags -> options ->
// capture.Analyze -> writers.
func runPcap(ctx context.Context, g *globals, f *pcapFlags, args []string) error {
	show, err := pcapCheck(f)
	if err != nil {
		return err
	}
	sources, err := pcapInputs(g, args, f)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	opt := capture.AnalyzeOptions{
		Options: capture.Options{Label: g.catalog.Lookup, IdleTimeout: f.idle, MaxFlows: f.maxFlows, MaxServices: f.maxServices},
		Info: result.Info{
			Args:    g.commandLine(),
			Version: version,
			Lang:    g.lang,
		},
		OnError: func(e *capture.SourceError) { pcapFailed(g.stderr, e) },
	}
	w, closers, err := pcapOutputs(g, f, show, &opt)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return err
	}
	started := time.Now()
	st, err := capture.Analyze(ctx, sources, opt, w)
	if !g.quiet && (st.Counters.Packets > 0 || !errors.Is(err, capture.ErrNotCapture)) {
		pcapSummary(g.stderr, st.Counters, st.Sources, time.Since(started))
	}
	return pcapExit(st, err)
}

// pcapCheck checks the flags that need no file.
func pcapCheck(f *pcapFlags) (map[result.State]bool, error) {
	show, err := showStates(&scanFlags{open: f.open, show: f.show})
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	if f.idle <= 0 || f.maxFlows <= 0 || f.maxServices <= 0 {
		return nil, usageErr("--idle-timeout, --max-flows and --max-services must be positive")
	}
	if !output.Known(f.format) {
		return nil, usageErr("%v %q: want one of %s", output.ErrFormat, f.format, strings.Join(output.Formats(), ", "))
	}
	if f.packets && f.reportOnStdout() && !strings.EqualFold(f.format, "text") {
		return nil, usageErr("--packets prints on stdout; with --format %s, send the report elsewhere with -o FILE", f.format)
	}
	if f.packets && f.write == "-" {
		return nil, usageErr("--packets and --write both write to standard output; send one to a file")
	}
	if err := checkPaths([]pathArg{{flag: "--output", path: cmp.Or(f.out, "-")}, {flag: "--write", path: f.write}}, nil); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return show, nil
}

// reportOnStdout says the report goes to standard output.
func (f *pcapFlags) reportOnStdout() bool { return f.out == "" || f.out == "-" }

// pcapOutputs creates the report writer (on stdout or -o FILE) and sets
// the packet lines (--packets) and the annotated copy (-w FILE) in opt.
// The closers are to be closed at the end, also on error.
func pcapOutputs(g *globals, f *pcapFlags, show map[result.State]bool, opt *capture.AnalyzeOptions) (output.Writer, []io.Closer, error) {
	var closers []io.Closer
	dest := g.stdout
	if !f.reportOnStdout() {
		file, err := os.Create(f.out)
		if err != nil {
			return nil, closers, usageErr("--output: %v", err)
		}
		closers = append(closers, file)
		dest = file
	}
	all, _ := shownInFull(&scanFlags{show: f.show})
	w, err := output.New(f.format, dest, output.Options{Show: show, ShowAll: all, Color: f.reportOnStdout() && g.useColor(g.stdout), Lang: g.lang, Reason: f.reason, Stylesheet: f.xsl.href()})
	if err != nil {
		return nil, closers, &exitError{code: exitUsage, err: err}
	}
	switch f.write {
	case "":
	case "-":
		opt.Annotate = g.stdout
	default:
		file, err := os.Create(f.write)
		if err != nil {
			return nil, closers, usageErr("--write: %v", err)
		}
		closers = append(closers, file)
		opt.Annotate = file
	}
	if f.packets {
		opt.Packets = g.stdout
		if f.reportOnStdout() {
			// The text report follows the packet lines on stdout.
			opt.OnRead = func() { fmt.Fprintln(g.stdout) }
		}
	}
	return w, closers, nil
}

// pcapFailed says on stderr which capture failed and where.
func pcapFailed(w io.Writer, e *capture.SourceError) {
	var re *capture.ReadError
	if errors.As(e.Err, &re) && re.Packet > 1 {
		fmt.Fprintf(w, "portscan: %s: %s; the %s reported\n", text.Escape(e.Name), text.OneLine(re.Error()), text.Count(re.Packet-1, "packet before it is", "packets before it are"))
		return
	}
	fmt.Fprintf(w, "portscan: %s: %s\n", text.Escape(e.Name), text.OneLine(e.Err.Error()))
}

// pcapExit turns what capture.Analyze returned into the exit status: 130
// interrupted, 1 an output failed, 2 a file that is no capture, 1 one
// that is damaged.
func pcapExit(st capture.Stats, err error) error {
	var oe *capture.OutputError
	switch {
	case st.Summary.Interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; results so far are written")}
	case errors.As(err, &oe):
		return &exitError{code: exitFail, err: oe}
	case errors.Is(err, capture.ErrNotCapture):
		return &exitError{code: exitUsage}
	case err != nil:
		return &exitError{code: exitFail}
	}
	return nil
}

// pcapInputs checks the file arguments: they exist, stdin is named at
// most once, and none is a file that -o or -w would overwrite.
func pcapInputs(g *globals, args []string, f *pcapFlags) ([]capture.Source, error) {
	type target struct {
		flag string
		info os.FileInfo
	}
	var targets []target
	for _, t := range []struct{ flag, path string }{{"--output", f.out}, {"--write", f.write}} {
		if t.path == "" || t.path == "-" {
			continue
		}
		if fi, err := os.Stat(t.path); err == nil {
			targets = append(targets, target{t.flag, fi})
		}
	}
	stdin := false
	sources := make([]capture.Source, 0, len(args))
	for _, a := range args {
		if a == "-" {
			if stdin {
				return nil, errors.New("- (standard input) given twice")
			}
			stdin = true
			sources = append(sources, capture.Stream("stdin", g.stdin))
			continue
		}
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory", a)
		}
		for _, t := range targets {
			if os.SameFile(fi, t.info) {
				return nil, fmt.Errorf("%s %s would overwrite an input", t.flag, a)
			}
		}
		sources = append(sources, capture.File(a))
	}
	return sources, nil
}

// pcapSummary tells on stderr what was read and what was left out.
func pcapSummary(w io.Writer, c capture.Counters, files int, took time.Duration) {
	var skipped []string
	for s, n := range c.Skipped {
		if n > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s", n, capture.Skip(s)))
		}
	}
	skip := ""
	if len(skipped) > 0 {
		skip = " (" + strings.Join(skipped, ", ") + ")"
	}
	rate := ""
	if s := took.Seconds(); s > 0 {
		rate = fmt.Sprintf(", %.0f packets/s", float64(c.Packets)/s)
	}
	fmt.Fprintf(w, "portscan: read %s from %s in %.2f s%s; %d skipped%s\n",
		text.Count(int(c.Packets), "packet", "packets"), text.Count(files, "file", "files"), took.Seconds(), rate, c.SkippedTotal(), skip)
	fmt.Fprintf(w, "portscan: %s: %d evicted idle, %d evicted early (table full), %d without evidence about a server port",
		text.Count(int(c.Flows), "flow", "flows"), c.Idle, c.Full, c.Unknown)
	if c.Overflow > 0 {
		fmt.Fprintf(w, ", %d not reported (service table full)", c.Overflow)
	}
	fmt.Fprintln(w)
}
