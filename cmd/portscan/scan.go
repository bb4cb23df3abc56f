package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/services"
	"github.com/portscan/portscan/targets"
)

// version is portscan's version, printed in reports.
const version = "0.1.0"

// scanFlags are the flags of a scan.
type scanFlags struct {
	ports, excludePorts  string
	inputList            string
	exclude, excludeFile string
	ipv4, ipv6, allAddrs bool
	noDNS, skipDiscovery bool
	format, out          string
	outXML, outNormal    string
	open, reason         bool
	show                 []string
	rate                 float64
	concurrency, retries int
	hostGroup            int
	initialRTT, minRTT   time.Duration
	maxRTT               time.Duration
	seed                 uint64
	timing               int
	tcp, udp             bool
	topPorts             int // --top-ports, -F; 0: not given
	progress             string
	baseline             string
	changed              func(name string) bool // whether a flag was given
}

func addScanFlags(cmd *cobra.Command, f *scanFlags) {
	fl := cmd.Flags()
	fl.StringVarP(&f.ports, "ports", "p", "", "ports to scan: 22,80,8000-8100, - (all), 60000-, names (ssh,http); default: every catalog port of the protocols scanned")
	fl.StringVar(&f.excludePorts, "exclude-ports", "", "ports not to scan, same syntax as --ports")
	fl.IntVar(&f.topPorts, "top-ports", 0, "scan the `N` highest-ranked catalog ports of each protocol (data/top-ports.tsv; -F is --top-ports 100)")
	fl.StringVar(&f.inputList, "input-list", "", "read targets from `FILE` (- for stdin), one or more a line, # comments (nmap -iL)")
	fl.StringVar(&f.exclude, "exclude", "", "targets not to scan, comma-separated `SPECS`")
	fl.StringVar(&f.excludeFile, "exclude-file", "", "targets not to scan, from `FILE`")
	fl.BoolVarP(&f.ipv4, "ipv4", "4", false, "resolve host names to IPv4 addresses (the default)")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "resolve host names to IPv6 addresses")
	fl.BoolVar(&f.allAddrs, "all-addresses", false, "scan every address a host name resolves to, not only the first")
	fl.BoolVarP(&f.noDNS, "no-dns", "n", false, "no reverse DNS (portscan never does reverse DNS; accepted for nmap habits)")
	fl.BoolVar(&f.skipDiscovery, "skip-discovery", false, "scan every host without first checking it answers (nmap -Pn)")
	fl.BoolVar(&f.tcp, "tcp", false, "TCP connect scan (nmap -sT; the default without --udp)")
	fl.BoolVar(&f.udp, "udp", false, "UDP scan (nmap -sU); with --tcp, both in one run")
	fl.StringVar(&f.format, "format", "text", "output format: text, jsonl, json, csv or xml (nmap XML)")
	fl.StringVarP(&f.out, "output", "o", "", "write the output to `FILE` instead of stdout, flushed as results arrive")
	fl.StringVar(&f.outXML, "output-xml", "", "also write nmap XML to `FILE` (nmap -oX)")
	fl.StringVar(&f.outNormal, "output-normal", "", "also write text output to `FILE` (nmap -oN)")
	fl.BoolVar(&f.open, "open", false, "show only open ports")
	fl.StringSliceVar(&f.show, "show", nil, "also list ports in these `STATES`: closed, filtered, open|filtered (comma-separated)")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state")
	fl.Float64Var(&f.rate, "rate", 0, "send at most `N` probes per second (0: no limit)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "most probes in flight at once (0: from the open-file limit)")
	fl.IntVar(&f.retries, "retries", scanner.DefaultRetries, "times a port that did not answer is probed again")
	fl.IntVar(&f.hostGroup, "host-group", 0, "most hosts scanned at once (0: enough to keep the probes busy)")
	fl.DurationVar(&f.initialRTT, "initial-rtt-timeout", scanner.DefaultInitialRTTTimeout, "probe timeout before a host's round trip time is known")
	fl.DurationVar(&f.minRTT, "min-rtt-timeout", scanner.DefaultMinRTTTimeout, "shortest probe timeout")
	fl.DurationVar(&f.maxRTT, "max-rtt-timeout", scanner.DefaultMaxRTTTimeout, "longest probe timeout")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the probe order, for a repeatable run (0: random)")
	fl.StringVar(&f.baseline, "baseline", "", "compare with the saved run in `FILE` (any format diff reads) and exit 1 if open ports differ")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fl.IntVar(&f.timing, "timing", -1, "nmap's timing template `0-5` (-T0 to -T5); flags given explicitly win")
	f.changed = fl.Changed
}

// scanJob is a checked, ready-to-run scan.
type scanJob struct {
	cfg     scanner.Config
	targets *targets.Set
	info    result.Info
	writer  output.Writer
	closers []io.Closer
	base    *baselineCheck // --baseline
}

// buildScan checks the flags and arguments and prepares the run; every
// error it returns is a usage error.
func buildScan(g *globals, f *scanFlags, args []string) (*scanJob, error) {
	if f.ipv4 && f.ipv6 {
		return nil, errors.New("-4 and -6 exclude each other")
	}
	opts := targets.Options{AllAddresses: f.allAddrs, Family: targets.IPv4, Resolve: g.resolve}
	if f.ipv6 {
		opts.Family = targets.IPv6
	}
	set := targets.NewSet(opts)
	for _, a := range args {
		if err := set.Add(a); err != nil {
			return nil, err
		}
	}
	if f.inputList != "" {
		if err := readFileInto(g, f.inputList, set.AddFile); err != nil {
			return nil, err
		}
	}
	if len(args) == 0 && f.inputList == "" {
		return nil, errors.New("no targets: give addresses, ranges or host names, or --input-list FILE")
	}
	if f.exclude != "" {
		if err := set.Exclude(strings.ReplaceAll(f.exclude, ",", " ")); err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
	}
	if f.excludeFile != "" {
		if err := readFileInto(g, f.excludeFile, set.ExcludeFile); err != nil {
			return nil, err
		}
	}

	protos := []ports.Protocol{ports.TCP}
	switch {
	case f.udp && f.tcp:
		protos = []ports.Protocol{ports.TCP, ports.UDP}
	case f.udp:
		protos = []ports.Protocol{ports.UDP}
	}
	portSet, spec, err := scanPorts(g.catalog, f, protos)
	if err != nil {
		return nil, err
	}
	if err := f.applyTiming(); err != nil {
		return nil, err
	}
	if f.retries < 0 {
		return nil, fmt.Errorf("invalid --retries %d: must be 0 or more", f.retries)
	}
	if f.rate < 0 || f.concurrency < 0 || f.hostGroup < 0 {
		return nil, errors.New("--rate, --concurrency and --host-group must not be negative")
	}
	if f.minRTT <= 0 || f.maxRTT <= 0 || f.initialRTT <= 0 || f.minRTT > f.maxRTT {
		return nil, fmt.Errorf("invalid RTT timeouts: need 0 < --min-rtt-timeout (%v) <= --max-rtt-timeout (%v), and --initial-rtt-timeout > 0", f.minRTT, f.maxRTT)
	}
	cat := g.catalog
	cfg := scanner.Config{
		Ports:             portSet,
		Concurrency:       f.concurrency,
		Rate:              f.rate,
		Tries:             f.retries + 1,
		InitialRTTTimeout: f.initialRTT,
		MinRTTTimeout:     f.minRTT,
		MaxRTTTimeout:     f.maxRTT,
		SkipDiscovery:     f.skipDiscovery,
		HostGroup:         f.hostGroup,
		Seed:              f.seed,
		Label:             cat.Lookup,
	}

	show, err := showStates(f)
	if err != nil {
		return nil, err
	}
	job := &scanJob{cfg: cfg, targets: set}
	if err := job.readBaseline(g, f.baseline); err != nil {
		return nil, err
	}
	job.info = result.Info{
		Args:      g.commandLine(),
		Start:     time.Now(),
		ScanType:  scanType(protos),
		Protocols: protos,
		Ports:     portSet,
		PortsSpec: spec,
		NumPorts:  portSet.Len(protos[0]),
		Version:   version,
		Lang:      g.lang,
	}
	var writers []output.Writer
	main := g.stdout
	if f.out != "" {
		file, err := os.Create(f.out)
		if err != nil {
			return nil, fmt.Errorf("--output: %w", err)
		}
		job.closers = append(job.closers, file)
		main = file
	}
	w, err := output.New(f.format, main, output.Options{Show: show, Color: f.out == "" && g.useColor(g.stdout), Lang: g.lang, Reason: f.reason})
	if err != nil {
		job.close()
		return nil, err
	}
	writers = append(writers, w)
	for _, extra := range []struct{ path, format string }{{f.outXML, "xml"}, {f.outNormal, "text"}} {
		if extra.path == "" {
			continue
		}
		file, err := os.Create(extra.path)
		if err != nil {
			job.close()
			return nil, err
		}
		job.closers = append(job.closers, file)
		w, _ := output.New(extra.format, file, output.Options{Show: show, Lang: g.lang, Reason: f.reason})
		writers = append(writers, w)
	}
	job.writer = writers[0]
	if len(writers) > 1 {
		job.writer = result.Tee(writers...)
	}
	job.watchBaseline()
	return job, nil
}

// numPorts is how many ports each host gets, all protocols together.
func (j *scanJob) numPorts() int {
	n := 0
	for _, p := range j.info.Protocols {
		n += j.cfg.Ports.Len(p)
	}
	return n
}

func (j *scanJob) close() {
	for _, c := range j.closers {
		c.Close()
	}
}

// readFileInto feeds the file at path ("-" is stdin) to add.
func readFileInto(g *globals, path string, add func(name string, r io.Reader) error) error {
	if path == "-" {
		return add("stdin", g.stdin)
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	return add(path, file)
}

// applyTiming sets what nmap's timing templates set, where the flags
// were not given: T0-T2 serialise and pace the probes, T3 waits longer
// for slow hosts, T4 is portscan's default, T5 trades accuracy for speed.
func (f *scanFlags) applyTiming() error {
	if f.timing == -1 {
		return nil
	}
	if f.timing < 0 || f.timing > 5 {
		return fmt.Errorf("invalid timing template %d: want 0 to 5 (-T0 to -T5)", f.timing)
	}
	set := func(name string, apply func()) {
		if f.changed == nil || !f.changed(name) {
			apply()
		}
	}
	switch f.timing {
	case 0, 1, 2:
		rate := map[int]float64{0: 1.0 / 300, 1: 1.0 / 15, 2: 2.5}[f.timing]
		set("rate", func() { f.rate = rate })
		set("concurrency", func() { f.concurrency = 1 })
		set("max-rtt-timeout", func() { f.maxRTT = 10 * time.Second })
	case 3:
		set("max-rtt-timeout", func() { f.maxRTT = 10 * time.Second })
		set("retries", func() { f.retries = 2 })
	case 5:
		set("initial-rtt-timeout", func() { f.initialRTT = 250 * time.Millisecond })
		set("min-rtt-timeout", func() { f.minRTT = 50 * time.Millisecond })
		set("max-rtt-timeout", func() { f.maxRTT = 300 * time.Millisecond })
	}
	return nil
}

// scanType names the scan as nmap's XML scaninfo does.
func scanType(protos []ports.Protocol) string {
	names := make([]string, len(protos))
	for i, p := range protos {
		names[i] = map[ports.Protocol]string{ports.TCP: "connect", ports.UDP: "udp"}[p]
	}
	return strings.Join(names, "+")
}

// scanPorts reads --ports (or --top-ports) and --exclude-ports for the
// protocols scanned.
// Ports the spec gives to a protocol not scanned (U:53 in a TCP scan) are
// dropped, as nmap does.
func scanPorts(cat *services.Catalog, f *scanFlags, protos []ports.Protocol) (*ports.Set, string, error) {
	opt := ports.SpecOptions{Protocols: protos, Lookup: cat.Ports}
	var set *ports.Set
	top := f.topPorts != 0 || f.changed != nil && f.changed("top-ports")
	switch {
	case top && f.topPorts < 1:
		return nil, "", fmt.Errorf("invalid --top-ports %d: want 1 or more", f.topPorts)
	case top && f.ports != "":
		return nil, "", errors.New("--top-ports (or -F) and --ports (-p) exclude each other")
	case top:
		set = &ports.Set{}
		for _, proto := range protos {
			for _, p := range services.Top(proto, f.topPorts) {
				set.Add(p)
			}
		}
	case f.ports == "":
		set = &ports.Set{}
		for e := range cat.All() {
			if slices.Contains(protos, e.Port.Proto) {
				set.Add(e.Port)
			}
		}
	default:
		s, err := ports.ParseSpec(f.ports, opt)
		if err != nil {
			return nil, "", err
		}
		set = s
	}
	if f.excludePorts != "" {
		ex, err := ports.ParseSpec(f.excludePorts, opt)
		if err != nil {
			return nil, "", fmt.Errorf("--exclude-ports: %w", err)
		}
		set.Subtract(ex)
	}
	var only ports.Set
	total := 0
	for _, p := range protos {
		for n := range set.All(p) {
			only.Add(ports.Port{Number: n, Proto: p})
		}
		total += set.Len(p)
	}
	set = &only
	if total == 0 {
		return nil, "", errors.New("no ports left to scan")
	}
	return set, set.String(), nil
}

// showStates turns --open and --show into the states listed port by port.
func showStates(f *scanFlags) (map[result.State]bool, error) {
	if f.open {
		if len(f.show) > 0 {
			return nil, errors.New("--open and --show exclude each other")
		}
		return map[result.State]bool{result.Open: true}, nil
	}
	show := output.DefaultShow()
	for _, s := range f.show {
		st, err := result.ParseState(strings.TrimSpace(s))
		if err != nil || st == result.Unknown {
			return nil, fmt.Errorf("invalid --show state %q: want open, closed, filtered or open|filtered", s)
		}
		show[st] = true
	}
	return show, nil
}

// runScan runs a prepared scan, writing as results arrive.
func runScan(ctx context.Context, g *globals, f *scanFlags, job *scanJob) error {
	defer job.close()
	// With the output files open, and before anything is written to them.
	if err := scanner.CheckFileLimit(job.cfg); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	w := job.writer
	if err := w.Begin(job.info); err != nil {
		return &exitError{code: exitFail, err: err}
	}
	bar := newProgress(ctx, g, f, job)
	sink := result.Tee(bar, w)
	cfg := job.cfg
	cfg.Warn = func(err error) {
		bar.clear()
		fmt.Fprintf(g.stderr, "portscan: warning: %s\n", oneLine(err.Error()))
	}
	defer func() {
		// Should the engine or a writer crash, close the documents first:
		// what was found stays readable.
		if r := recover(); r != nil {
			w.End(result.Summary{Interrupted: true})
			panic(r)
		}
	}()
	stats, err := scanner.Run(ctx, cfg, job.targets.All(ctx), sink)
	var werr error
	if errors.Is(err, scanner.ErrSink) {
		werr, err = err, nil
	}
	if eerr := sink.End(stats); eerr != nil && werr == nil {
		werr = eerr
	}
	switch {
	case werr != nil:
		return &exitError{code: exitFail, err: werr}
	case stats.Interrupted || errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; results so far are written")}
	case errors.Is(err, scanner.ErrFileLimit):
		return &exitError{code: exitUsage, err: err}
	case err != nil:
		return &exitError{code: exitFail, err: err}
	}
	return job.compareBaseline(g)
}
