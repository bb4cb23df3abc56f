package main

import (
	"bufio"
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
	"github.com/portscan/portscan/ports"
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
130 interrupted.`

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
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("pcap: give one or more capture files (- for standard input)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPcap(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, jsonl, json, csv or xml (nmap XML)")
	fl.StringVarP(&f.out, "output", "o", "", "write the report to `FILE` instead of stdout")
	fl.BoolVar(&f.open, "open", false, "show only open ports")
	fl.StringSliceVar(&f.show, "show", nil, "also list ports in these `STATES`: closed, filtered, open|filtered (comma-separated)")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state")
	fl.BoolVar(&f.packets, "packets", false, "print one tcpdump-like line per packet, with the service of each known port, before the report")
	fl.StringVarP(&f.write, "write", "w", "", "write a copy of the capture as pcapng to `FILE`, each packet commented with its service")
	fl.DurationVar(&f.idle, "idle-timeout", capture.DefaultIdleTimeout, "capture time after which a silent flow is closed and counted")
	fl.IntVar(&f.maxFlows, "max-flows", capture.DefaultMaxFlows, "most flows followed at once; the least recently active is closed early beyond it")
	fl.IntVar(&f.maxServices, "max-services", capture.DefaultMaxServices, "most services reported; flows to others are only counted")
	addXSLFlags(cmd, &f.xsl)
	return cmd
}

// pcapInput is one capture to read.
type pcapInput struct {
	name string // as given; "-" is stdin
	path string // "" for stdin
}

// runPcap reads the captures, then writes the report.
func runPcap(ctx context.Context, g *globals, f *pcapFlags, args []string) error {
	show, err := showStates(&scanFlags{open: f.open, show: f.show})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if f.idle <= 0 || f.maxFlows <= 0 || f.maxServices <= 0 {
		return usageErr("--idle-timeout, --max-flows and --max-services must be positive")
	}
	if f.packets && f.out == "" && !strings.EqualFold(f.format, "text") {
		return usageErr("--packets prints on stdout; with --format %s, send the report elsewhere with -o FILE", f.format)
	}
	inputs, err := pcapInputs(args, f)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	dest := g.stdout
	if f.out != "" {
		file, err := os.Create(f.out)
		if err != nil {
			return usageErr("--output: %v", err)
		}
		closers = append(closers, file)
		dest = file
	}
	all, _ := shownInFull(&scanFlags{show: f.show})
	w, err := output.New(f.format, dest, output.Options{Show: show, ShowAll: all, Color: f.out == "" && g.useColor(g.stdout), Lang: g.lang, Reason: f.reason, Stylesheet: f.xsl.href()})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var ann *capture.Annotator
	if f.write != "" {
		annFile, err := os.Create(f.write)
		if err != nil {
			return usageErr("--write: %v", err)
		}
		closers = append(closers, annFile)
		ann = capture.NewAnnotator(annFile)
	}

	started := time.Now()
	label := g.catalog.Lookup
	an := capture.NewAnalyzer(capture.Options{Label: label, IdleTimeout: f.idle, MaxFlows: f.maxFlows, MaxServices: f.maxServices})
	dec := capture.NewDecoder()
	var (
		d          capture.Decoded
		line       []byte
		pw         = bufio.NewWriterSize(g.stdout, 64<<10)
		failed     bool // a capture is damaged: exit 1
		notCapture bool // a file is no capture at all: exit 2
		interrupt  bool
		werr       error
		files      int
	)
	for _, in := range inputs {
		if interrupt {
			break
		}
		err := readCapture(ctx, g, in, func(p *capture.Packet) error {
			dec.Decode(p.LinkType, p.Data, &d)
			an.Add(p.Time, &d)
			if !f.packets && ann == nil {
				return nil
			}
			srv := an.LastServer()
			if f.packets {
				line = capture.AppendLine(line[:0], p, &d, srv, label)
				line = append(line, '\n')
				if _, err := pw.Write(line); err != nil {
					return err
				}
			}
			if ann != nil {
				return ann.Write(p, capture.Comment(&d, srv, label, g.lang))
			}
			return nil
		})
		files++
		var re *capture.ReadError
		switch {
		case errors.Is(err, context.Canceled):
			interrupt = true
		case errors.Is(err, capture.ErrNotCapture):
			notCapture = true
			fmt.Fprintf(g.stderr, "portscan: %s: %s\n", text.Escape(in.name), oneLine(err.Error()))
		case errors.As(err, &re) && re.Packet > 1:
			failed = true
			fmt.Fprintf(g.stderr, "portscan: %s: %s; the %s reported\n", text.Escape(in.name), oneLine(re.Error()), text.Count(re.Packet-1, "packet before it is", "packets before it are"))
		case err != nil:
			failed = true
			if werr == nil {
				werr = err
			}
			fmt.Fprintf(g.stderr, "portscan: %s: %s\n", text.Escape(in.name), oneLine(err.Error()))
		}
	}
	if err := pw.Flush(); err != nil && werr == nil {
		werr = err
	}
	if f.packets && f.out == "" {
		fmt.Fprintln(g.stdout)
	}
	if ann != nil {
		if err := ann.Flush(); err != nil && werr == nil {
			werr = fmt.Errorf("--write: %w", err)
		}
	}

	info := result.Info{
		Args:      g.commandLine(),
		ScanType:  "pcap",
		Protocols: []ports.Protocol{ports.TCP, ports.UDP},
		Version:   version,
		Lang:      g.lang,
	}
	// The report is dated by the capture, not by when it was read.
	info.Start, _ = an.Span()
	if err := w.Begin(info); err != nil && werr == nil {
		werr = err
	}
	stats, err := an.Report(w)
	if err != nil && werr == nil {
		werr = err
	}
	stats.Interrupted = interrupt
	c := an.Counters()
	stats.Capture = &result.CaptureStats{Packets: c.Packets, Skipped: c.SkippedTotal(), Flows: c.Flows,
		EvictedIdle: c.Idle, EvictedFull: c.Full, Unreported: c.Overflow}
	if err := w.End(stats); err != nil && werr == nil {
		werr = err
	}
	if !g.quiet {
		pcapSummary(g.stderr, an.Counters(), files, time.Since(started))
	}

	switch {
	case interrupt:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; results so far are written")}
	case werr != nil:
		return &exitError{code: exitFail, err: fmt.Errorf("writing output: %w", werr)}
	case notCapture:
		return &exitError{code: exitUsage}
	case failed:
		return &exitError{code: exitFail}
	}
	return nil
}

// pcapInputs checks the file arguments: they exist, stdin is named at
// most once, and none is a file that -o or -w would overwrite.
func pcapInputs(args []string, f *pcapFlags) ([]pcapInput, error) {
	if f.write == "-" {
		return nil, errors.New("--write needs a file name")
	}
	type target struct {
		flag string
		info os.FileInfo
	}
	var targets []target
	for _, t := range []struct{ flag, path string }{{"--output", f.out}, {"--write", f.write}} {
		if t.path == "" {
			continue
		}
		if fi, err := os.Stat(t.path); err == nil {
			targets = append(targets, target{t.flag, fi})
		}
	}
	stdin := false
	inputs := make([]pcapInput, 0, len(args))
	for _, a := range args {
		if a == "-" {
			if stdin {
				return nil, errors.New("- (standard input) given twice")
			}
			stdin = true
			inputs = append(inputs, pcapInput{name: "stdin"})
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
		inputs = append(inputs, pcapInput{name: a, path: a})
	}
	return inputs, nil
}

// readCapture feeds every packet of one capture to fn. It returns a
// *capture.ReadError if the file is damaged, ctx's error if interrupted,
// or fn's error.
func readCapture(ctx context.Context, g *globals, in pcapInput, fn func(*capture.Packet) error) error {
	var src io.Reader = g.stdin
	if in.path != "" {
		file, err := os.Open(in.path)
		if err != nil {
			return err
		}
		defer file.Close()
		src = file
	}
	r, err := capture.NewReader(src)
	if err != nil {
		return err
	}
	for {
		if r.Packets()&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
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
