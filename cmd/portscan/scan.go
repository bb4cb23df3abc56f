package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portscan/portscan/detect"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/probes"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/resume"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/services"
	"github.com/portscan/portscan/shard"
	"github.com/portscan/portscan/targets"
)

// version is portscan's version, printed in reports.
const version = "0.1.0"

// scanFlags are the flags of a scan: the scan's options, which a
// policy's scan block may give too, and how the command line writes
// the results.
type scanFlags struct {
	opts scan.Options
	// settings maps each flag that gives a setting of opts to it.
	settings map[string]scan.Field

	noDNS               bool
	format, out         string
	outXML, outNormal   string
	outGrepable, outAll string
	outHTML             string
	open, reason        bool
	show                []string
	maxOpen             int
	progress            string
	statsEvery          time.Duration
	verbose             int
	discoverOnly        bool
	baseline            string
	xsl                 xslFlags
	detectTimeout       time.Duration  // with --detect (opts.Detect), each port's budget
	serviceProbes       string         // --service-probes: a user's nmap-service-probes file
	intensity           int            // --version-intensity
	probeFile           *probes.File   // serviceProbes, loaded
	noMain              bool           // no main output (an audit's scan without --save)
	resume              string         // --resume: the state file
	resumeEvery         time.Duration  // --resume-every
	flags               *pflag.FlagSet // as parsed, for given
	ping                pingFlags      // host discovery: -PE, -PS, ..., --unprivileged
}

func addScanFlags(cmd *cobra.Command, f *scanFlags) {
	fl := cmd.Flags()
	o := &f.opts
	f.settings = map[string]scan.Field{}
	// set names the flag that gives setting s.
	set := func(name string, s scan.Field) string {
		f.settings[name] = s
		return name
	}
	fl.StringVarP(&o.Ports, set("ports", scan.Ports), "p", "", "ports to scan: 22,80,8000-8100, - (all), 60000-, names (ssh,http); default: every catalog port of the protocols scanned")
	fl.StringVar(&o.ExcludePorts, set("exclude-ports", scan.ExcludePorts), "", "ports not to scan, same syntax as --ports")
	fl.IntVar(&o.TopPorts, set("top-ports", scan.TopPorts), 0, "scan the `N` highest-ranked catalog ports of each protocol (data/top-ports.tsv; -F is --top-ports 100)")
	fl.StringVar(&o.InputList, set("input-list", scan.InputList), "", "read targets from `FILE` (- for stdin), one or more a line, # comments (nmap -iL)")
	fl.StringVar(&o.Exclude, set("exclude", scan.Exclude), "", "targets not to scan, comma-separated `SPECS`")
	fl.StringVar(&o.ExcludeFile, set("exclude-file", scan.ExcludeFile), "", "targets not to scan, from `FILE`")
	fl.BoolVarP(&o.IPv4, set("ipv4", scan.IPv4), "4", false, "resolve host names to IPv4 addresses (the default)")
	fl.BoolVarP(&o.IPv6, set("ipv6", scan.IPv6), "6", false, "resolve host names to IPv6 addresses")
	fl.BoolVar(&o.AllAddresses, set("all-addresses", scan.AllAddresses), false, "scan every address a host name resolves to, not only the first")
	fl.BoolVarP(&f.noDNS, "no-dns", "n", false, "no reverse DNS (portscan never does reverse DNS; accepted for nmap habits)")
	fl.BoolVar(&o.SkipDiscovery, set("skip-discovery", scan.SkipDiscovery), false, "scan every host without first checking it answers (nmap -Pn)")
	fl.BoolVar(&f.discoverOnly, "discover-only", false, "only find which hosts are up, and scan no port (nmap -sn; see --ping-echo and --unprivileged for how)")
	fl.BoolVar(&o.TCP, set("tcp", scan.TCP), false, "TCP connect scan (nmap -sT; the default without --udp, for every user, root too)")
	fl.BoolVar(&o.Syn, set("syn", scan.Syn), false, "TCP SYN scan with raw packets (nmap -sS): needs root or CAP_NET_RAW; with --udp, both")
	fl.BoolVar(&o.UDP, set("udp", scan.UDP), false, "UDP scan (nmap -sU); with --tcp, both in one run")
	fl.StringVar(&f.format, "format", "text", "output format: text, jsonl, json, csv, xml (nmap XML), grepable (nmap -oG) or html (a page for a browser)")
	fl.StringVarP(&f.out, "output", "o", "", "write the output to `FILE` instead of stdout, flushed as results arrive (- is stdout)")
	fl.StringVar(&f.outXML, "output-xml", "", "also write nmap XML to `FILE`, - for stdout (nmap -oX)")
	fl.StringVar(&f.outNormal, "output-normal", "", "also write text output to `FILE`, - for stdout (nmap -oN)")
	fl.StringVar(&f.outGrepable, "output-grepable", "", "also write nmap's grepable format to `FILE`, - for stdout (nmap -oG)")
	fl.StringVar(&f.outHTML, "output-html", "", "also write an HTML report, one self-contained page, to `FILE`, - for stdout")
	fl.StringVar(&f.outAll, "output-all", "", "also write text, nmap XML and grepable output to `BASE`.nmap, BASE.xml and BASE.gnmap (nmap -oA)")
	fl.BoolVar(&f.open, "open", false, "show only ports that may be open (open, open|filtered)")
	fl.StringSliceVar(&f.show, "show", nil, "also list, every one, ports in these `STATES`: closed, filtered, open|filtered; and down: hosts found down (comma-separated)")
	fl.IntVar(&f.maxOpen, "max-open", 0, "stop probing a host after `N` open ports, and say it was cut short (0: no cap)")
	fl.BoolVar(&f.reason, "reason", false, "show why each port is in its state")
	fl.Float64Var(&o.Rate, set("rate", scan.Rate), 0, "send at most `N` probes per second (0: no limit)")
	fl.IntVar(&o.Concurrency, set("concurrency", scan.Concurrency), 0, "most probes in flight at once (0: from the open-file limit)")
	fl.IntVar(&o.Retries, set("retries", scan.Retries), scanner.DefaultRetries, "times a port that did not answer is probed again")
	fl.IntVar(&o.HostGroup, set("host-group", scan.HostGroup), 0, "most hosts scanned at once (0: enough to keep the probes busy)")
	fl.DurationVar(&o.InitialRTTTimeout, set("initial-rtt-timeout", scan.InitialRTTTimeout), scanner.DefaultInitialRTTTimeout, "probe timeout before a host's round trip time is known")
	fl.DurationVar(&o.MinRTTTimeout, set("min-rtt-timeout", scan.MinRTTTimeout), scanner.DefaultMinRTTTimeout, "shortest probe timeout")
	fl.DurationVar(&o.MaxRTTTimeout, set("max-rtt-timeout", scan.MaxRTTTimeout), scanner.DefaultMaxRTTTimeout, "longest probe timeout")
	fl.Uint64Var(&o.Seed, set("seed", scan.Seed), 0, "seed of the probe order, for a repeatable run, and of the shards' permutation (0: random)")
	fl.Var(shardValue{&o.Shard}, set("shard", scan.Shard), "scan only share `I/N` of the scan, I from 1 to N (as masscan writes it); every shard needs the same --seed")
	fl.Var(countValue{&o.Shards}, set("shards", scan.Shards), "split the scan into `N` shards, of which this run scans --shard-index; every shard needs the same --seed")
	fl.Var(indexValue{&o.ShardIndex}, set("shard-index", scan.ShardIndex), "with --shards N, the shard this run scans, `K` from 0 to N-1 (a Kubernetes Indexed Job's $(JOB_COMPLETION_INDEX))")
	fl.StringVar(&f.baseline, "baseline", "", "compare with the saved run in `FILE` (any format diff reads) and exit 1 if open ports differ")
	fl.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fl.DurationVar(&f.statsEvery, "stats-every", 0, "print a status line to stderr every `DURATION` (elapsed, hosts done, probes sent, rate, time left), bar or not")
	fl.CountVarP(&f.verbose, "verbose", "v", "tell more on stderr: each host's timing as it finishes, hosts that slow UDP down by rate-limiting ICMP (-vv: hosts found down too)")
	o.Timing = -1
	fl.Var(timingValue{&o.Timing}, set("timing", scan.Timing), "nmap's timing template, `0-5` or paranoid, sneaky, polite, normal, aggressive, insane (-T0 to -T5, -T4, -T 4, -T aggressive); flags given explicitly win")
	fl.BoolVar(&o.Detect, set("detect", scan.Detect), false, "name the service on each open port by talking to it: greeting, probes, TLS (nmap -sV)")
	fl.DurationVar(&f.detectTimeout, "detect-timeout", detect.DefaultTimeout, "with --detect, the most time one port's detection takes")
	fl.StringVar(&f.serviceProbes, "service-probes", "", "with --detect, also use the probes and match lines of an nmap-service-probes `FILE` you have (e.g. /usr/share/nmap/nmap-service-probes)")
	fl.IntVar(&f.intensity, "version-intensity", probes.DefaultIntensity, "with --service-probes, the rarest probes (`0-9`) tried on ports they do not name, as nmap's --version-intensity")
	addXSLFlags(cmd, &f.xsl)
	addPingFlags(cmd, &f.ping)
	completeWords(cmd, "format", output.Formats()...)
	completeWords(cmd, "show", showWords...)
	completeWords(cmd, "progress", "auto", "always", "never")
	completeWords(cmd, "timing", timingWords()...)
}

// parsed records in the options the targets and which settings the
// command line gave, once cobra has parsed the flags.
func (f *scanFlags) parsed(fl *pflag.FlagSet, targets []string) {
	f.flags = fl
	f.opts.Targets = targets
	for name, s := range f.settings {
		if fl.Changed(name) {
			f.opts.Given |= s
		}
	}
}

// given reports whether the command line gave the flag name.
func (f *scanFlags) given(name string) bool {
	return f.flags != nil && f.flags.Changed(name)
}

// check refuses the values of the flags that name no output format,
// progress mode, timing template or file, before anything is read,
// sent or created.
func (f *scanFlags) check() error {
	if !output.Known(f.format) {
		return fmt.Errorf("%w %q: want one of %s", output.ErrFormat, f.format, strings.Join(output.Formats(), ", "))
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("invalid --progress %q: want auto, always or never", f.progress)
	}
	for _, name := range []string{"output", "output-xml", "output-normal", "output-grepable", "output-all", "output-html", "baseline", "input-list", "exclude-file"} {
		if f.given(name) && f.flags.Lookup(name).Value.String() == "" {
			return fmt.Errorf("--%s needs a file name", name)
		}
	}
	if f.detectTimeout <= 0 {
		return fmt.Errorf("invalid --detect-timeout %v: must be more than 0", f.detectTimeout)
	}
	if f.intensity < 0 || f.intensity > 9 {
		return fmt.Errorf("invalid --version-intensity %d: want 0 to 9", f.intensity)
	}
	if (f.given("service-probes") || f.given("version-intensity")) && !f.opts.Detect {
		return errors.New("--service-probes and --version-intensity need --detect (-sV)")
	}
	if f.outAll == "-" {
		return errors.New("--output-all needs a base name: - would put three outputs on standard output")
	}
	return nil
}

// scanJob is a checked, ready-to-run scan.
type scanJob struct {
	cfg     scanner.Config
	targets *targets.Set
	info    result.Info
	sinks   []result.Sink // the outputs, then the records of --baseline or an audit
	closers []io.Closer
	base    *baselineCheck // --baseline
	def     scan.Definition
	fp      *scan.Fingerprint // fed the specs as they are read
	share   uint64            // in a shard, the ports (hosts with -sn) it owns
	files   []resume.Output   // the outputs that are files, for --resume
	resume  *resumeJob        // --resume
}

// buildScan checks the options and prepares the run and its outputs;
// every error it returns is a usage error. A sharded scan counts its
// targets, resolving their names, under ctx.
func buildScan(ctx context.Context, g *globals, f *scanFlags) (*scanJob, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := checkStderrFlags(g, f); err != nil {
		return nil, err
	}
	if err := checkDiscoverOnly(f); err != nil {
		return nil, err
	}
	if err := checkPaths(f.outputPaths(), f.inputPaths(g)); err != nil {
		return nil, err
	}
	if f.serviceProbes != "" {
		pf, err := probes.Load(f.serviceProbes, probes.Options{})
		if err != nil {
			return nil, fmt.Errorf("--service-probes: %w", err)
		}
		f.probeFile = pf
	}
	job, err := planScan(g, f.opts)
	if err != nil {
		return nil, err
	}
	if f.maxOpen < 0 {
		return nil, fmt.Errorf("invalid --max-open %d: must be 0 (no cap) or more", f.maxOpen)
	}
	job.cfg.MaxOpen = f.maxOpen
	if f.discoverOnly {
		job.discoverOnly()
	}
	if err := f.ping.applyDiscovery(g, f, job); err != nil {
		return nil, err
	}
	if err := job.planShard(ctx); err != nil {
		return nil, err
	}
	show, err := showStates(f)
	if err != nil {
		return nil, err
	}
	if err := job.readBaseline(g, f.baseline); err != nil {
		return nil, err
	}
	if err := job.prepareResume(g, f); err != nil {
		return nil, err
	}
	if err := job.openOutputs(g, f, show); err != nil {
		return nil, err
	}
	if err := job.startRecorder(g, f, show); err != nil {
		job.close()
		return nil, err
	}
	job.watchBaseline()
	return job, nil
}

// planScan turns a scan's options into what the engine runs: the
// target set, the port set, the scanner.Config and the result.Info.
func planScan(g *globals, o scan.Options) (*scanJob, error) {
	sh, err := o.ShardOf()
	if err != nil {
		return nil, err
	}
	fp := scan.NewFingerprint()
	set, err := scanTargets(g, &o, fp)
	if err != nil {
		return nil, err
	}
	protos := o.Protocols()
	portSet, err := scanPorts(g.catalog, &o, protos)
	if err != nil {
		return nil, err
	}
	cfg, err := scanConfig(o, portSet)
	if err != nil {
		return nil, err
	}
	cfg.Label = g.catalog.Lookup
	info := result.Info{
		Args:      g.commandLine(),
		Start:     time.Now(),
		ScanType:  scanType(protos, o.Syn),
		Protocols: protos,
		Ports:     portSet,
		PortsSpec: portSet.String(),
		NumPorts:  portSet.Len(protos[0]),
		Version:   version,
		Lang:      g.lang,
		Shard:     sh,
		Seed:      o.Seed,
	}
	cfg.Shard = sh
	def := scan.Definition{IPv6: o.IPv6, AllAddresses: o.AllAddresses, Protocols: protos, Ports: portSet, Seed: o.Seed}
	return &scanJob{cfg: cfg, targets: set, info: info, def: def, fp: fp}, nil
}

// planShard names the scan's definition in its Info (the fingerprint),
// and for a share of a sharded scan counts the targets, which the
// shards' permutation spans, and the share's size.
func (j *scanJob) planShard(ctx context.Context) error {
	j.def.DiscoverOnly = j.cfg.DiscoverOnly
	j.info.Fingerprint = j.fp.Sum(j.def)
	if !j.cfg.Shard.Sharded() {
		return nil
	}
	hosts, err := j.targets.ExactCount(ctx)
	if err != nil {
		return err
	}
	per := j.numPorts()
	if j.cfg.DiscoverOnly {
		per = 1
	}
	plan, err := shard.New(j.cfg.Seed, j.cfg.Shard, hosts, per)
	if err != nil {
		return err
	}
	j.cfg.Hosts, j.share = hosts, plan.Len()
	return nil
}

// scanTargets reads the targets: arguments, --input-list, less
// --exclude and --exclude-file.
func scanTargets(g *globals, o *scan.Options, fp *scan.Fingerprint) (*targets.Set, error) {
	if o.IPv4 && o.IPv6 {
		return nil, errors.New("-4 and -6 exclude each other")
	}
	opts := targets.Options{AllAddresses: o.AllAddresses, Family: targets.IPv4, Resolve: g.resolve}
	opts.Seen = func(sp targets.Spec, excluded bool) {
		if excluded {
			fp.Exclude(sp.String())
		} else {
			fp.Target(sp.String())
		}
	}
	if o.IPv6 {
		opts.Family = targets.IPv6
	}
	set := targets.NewSet(opts)
	for _, a := range o.Targets {
		if err := set.Add(a); err != nil {
			return nil, err
		}
	}
	if o.InputList != "" {
		if err := readFileInto(g, o.InputList, set.AddFile); err != nil {
			return nil, err
		}
	}
	if len(o.Targets) == 0 && o.InputList == "" {
		return nil, errors.New("no targets: give addresses, ranges or host names, or --input-list FILE")
	}
	if o.Exclude != "" {
		if err := set.Exclude(strings.ReplaceAll(o.Exclude, ",", " ")); err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
	}
	if o.ExcludeFile != "" {
		if err := readFileInto(g, o.ExcludeFile, set.ExcludeFile); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// scanConfig applies the timing template, checks the settings of speed
// and timeouts, and makes the engine's configuration for the ports.
func scanConfig(o scan.Options, portSet *ports.Set) (scanner.Config, error) {
	if err := o.ApplyTiming(); err != nil {
		return scanner.Config{}, err
	}
	if o.Retries < 0 {
		return scanner.Config{}, fmt.Errorf("invalid --retries %d: must be 0 or more", o.Retries)
	}
	if !(o.Rate >= 0) || math.IsInf(o.Rate, 1) { // NaN too
		return scanner.Config{}, fmt.Errorf("invalid --rate %v: want a number of probes a second, 0 or more (0: no limit)", o.Rate)
	}
	for _, n := range []struct {
		flag  string
		value int
	}{{"--concurrency", o.Concurrency}, {"--host-group", o.HostGroup}} {
		if n.value < 0 {
			return scanner.Config{}, fmt.Errorf("invalid %s %d: want 0 or more (0: chosen by portscan)", n.flag, n.value)
		}
	}
	if err := checkSyn(o); err != nil {
		return scanner.Config{}, err
	}
	if o.MinRTTTimeout <= 0 || o.MaxRTTTimeout <= 0 || o.InitialRTTTimeout <= 0 || o.MinRTTTimeout > o.MaxRTTTimeout {
		return scanner.Config{}, fmt.Errorf("invalid RTT timeouts: need 0 < --min-rtt-timeout (%v) <= --max-rtt-timeout (%v), and --initial-rtt-timeout > 0", o.MinRTTTimeout, o.MaxRTTTimeout)
	}
	return scanner.Config{
		Ports:             portSet,
		Concurrency:       o.Concurrency,
		Rate:              o.Rate,
		Tries:             o.Retries + 1,
		InitialRTTTimeout: o.InitialRTTTimeout,
		MinRTTTimeout:     o.MinRTTTimeout,
		MaxRTTTimeout:     o.MaxRTTTimeout,
		SkipDiscovery:     o.SkipDiscovery,
		HostGroup:         o.HostGroup,
		Seed:              o.Seed,
		Syn:               o.Syn,
	}, nil
}

// checkSyn refuses a SYN scan that cannot run: with -sT, which scans TCP
// too, or without the privilege raw sockets need. It never falls back to
// a connect scan, whose results would differ from what was asked for.
func checkSyn(o scan.Options) error {
	if !o.Syn {
		return nil
	}
	if o.TCP && o.Given.Has(scan.TCP) {
		return errors.New("-sS (--syn) and -sT (--tcp) exclude each other: both scan TCP ports")
	}
	if err := raw.Check(); err != nil {
		if errors.Is(err, raw.ErrPermission) {
			return errors.New("-sS needs root or CAP_NET_RAW (raw sockets): run as root, or use -sT")
		}
		return fmt.Errorf("-sS cannot open a raw socket: %w", err)
	}
	return nil
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

// scanType names the scan as nmap's XML scaninfo does.
func scanType(protos []ports.Protocol, syn bool) string {
	names := make([]string, len(protos))
	for i, p := range protos {
		names[i] = map[ports.Protocol]string{ports.TCP: "connect", ports.UDP: "udp"}[p]
		if p == ports.TCP && syn {
			names[i] = "syn"
		}
	}
	return strings.Join(names, "+")
}

// scanPorts reads the ports (or the top ports) and excluded ports for
// the protocols scanned, and adds the ports always probed. Ports the
// spec gives to a protocol not scanned (U:53 in a TCP scan) are
// dropped, as nmap does.
func scanPorts(cat *services.Catalog, o *scan.Options, protos []ports.Protocol) (*ports.Set, error) {
	opt := ports.SpecOptions{Protocols: protos, Lookup: cat.Ports}
	var set *ports.Set
	top := o.TopPorts != 0 || o.Given.Has(scan.TopPorts)
	switch {
	case top && o.TopPorts < 1:
		return nil, fmt.Errorf("invalid --top-ports %d: want 1 or more", o.TopPorts)
	case top && o.Ports != "":
		return nil, errors.New("--top-ports (or -F) and --ports (-p) exclude each other")
	case top:
		set = &ports.Set{}
		for _, proto := range protos {
			for _, p := range services.Top(proto, o.TopPorts) {
				set.Add(p)
			}
		}
	case o.Ports == "":
		set = &ports.Set{}
		for e := range cat.All() {
			if slices.Contains(protos, e.Port.Proto) {
				set.Add(e.Port)
			}
		}
	default:
		s, err := ports.ParseSpec(o.Ports, opt)
		if err != nil {
			return nil, err
		}
		set = s
	}
	if o.ExcludePorts != "" {
		ex, err := ports.ParseSpec(o.ExcludePorts, opt)
		if err != nil {
			return nil, fmt.Errorf("--exclude-ports: %w", err)
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
	if total == 0 {
		return nil, noPortsLeft(set, protos)
	}
	if o.Always != nil {
		for p := range o.Always.Ports() {
			if slices.Contains(protos, p.Proto) {
				only.Add(p)
			}
		}
	}
	return &only, nil
}

// needs names the flag that scans each protocol, for a port list that
// names only ports of protocols not scanned.
var needs = map[ports.Protocol]string{
	ports.TCP: "-sT (--tcp) or -sS (--syn) beside -sU",
	ports.UDP: "-sU (--udp)",
}

// noPortsLeft is the error of a scan left with no port: when the list
// named ports of a protocol not scanned (U:53 without -sU), it says
// which flag scans them.
func noPortsLeft(set *ports.Set, protos []ports.Protocol) error {
	for _, p := range []ports.Protocol{ports.TCP, ports.UDP} {
		if !slices.Contains(protos, p) && set.Len(p) > 0 {
			name := strings.ToUpper(p.String())
			return fmt.Errorf("no ports left to scan: %s:%s are %s ports, which need %s", name[:1], set.Spec(p), name, needs[p])
		}
	}
	return errors.New("no ports left to scan")
}

// showWords are the states --show takes.
var showWords = []string{"closed", "filtered", "open|filtered"}

// showStates turns --open and --show into the states listed port by port.
// --open lists every state that may be open, as nmap's does: open and
// open|filtered. "down" in --show is about hosts (shownInFull).
func showStates(f *scanFlags) (map[result.State]bool, error) {
	show := output.DefaultShow()
	for _, s := range f.show {
		if s = strings.TrimSpace(s); s == "down" {
			continue
		}
		st, err := result.ParseState(s)
		if err != nil || st == result.Unknown {
			return nil, fmt.Errorf("invalid --show state %q: want open, closed, filtered, open|filtered or down", s)
		}
		if f.open && st != result.Open && st != result.OpenFiltered {
			return nil, fmt.Errorf("--open and --show %s exclude each other", s)
		}
		show[st] = true
	}
	return show, nil
}

// shownInFull says what --show names: port states to list every one
// (never folded into "Not shown"), and whether to list down hosts.
func shownInFull(f *scanFlags) (all map[result.State]bool, down bool) {
	all = make(map[result.State]bool)
	for _, s := range f.show {
		if s = strings.TrimSpace(s); s == "down" {
			down = true
		} else if st, err := result.ParseState(s); err == nil {
			all[st] = true
		}
	}
	return all, down
}

// runScan runs a prepared scan, writing as results arrive, then
// compares it with --baseline.
func runScan(ctx context.Context, g *globals, f *scanFlags, job *scanJob) error {
	defer job.close()
	readerGone := func() bool { return false }
	if f.out == "" {
		var stop func()
		ctx, readerGone, stop = watchStdout(ctx, g.stdout)
		defer stop()
	}
	if rec := job.resume.recorder(); rec != nil {
		// The last checkpoint is taken as soon as the run is told to
		// stop, before what was in flight is handed on.
		stop := context.AfterFunc(ctx, rec.Interrupt)
		defer stop()
		defer rec.Close()
	}
	// With the output files open, and before anything is written to them.
	if err := scanner.CheckFileLimit(job.cfg); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	err := emit(job.sinks, job.info, func(w result.Sink) (result.Summary, error) {
		// The bar goes first, so that it clears itself before a host's
		// report, and finishes before the writers end.
		bar := newProgress(ctx, g, f, job)
		defer bar.finish()
		cfg := job.cfg
		say := func(format string, a ...any) {
			bar.clear()
			fmt.Fprintf(g.stderr, "portscan: "+format+"\n", a...)
		}
		cfg.Warn = func(err error) { say("warning: %s", text.OneLine(err.Error())) }
		var sinks []result.Sink
		if bar != nil {
			sinks = append(sinks, bar)
			cfg.Progress, cfg.ProgressEvery = bar.update, bar.interval()
		}
		if f.verbose > 0 {
			// Before the writers: a host's timing precedes its report.
			cfg.ICMPLimit = func(l scanner.ICMPLimit) { say("%s", icmpLimitNote(l)) }
			sinks = append(sinks, result.Funcs{OnHost: func(h result.Host) {
				if h.Up || f.verbose > 1 {
					say("%s", hostTimingNote(h))
				}
			}})
		}
		return runDetect(ctx, f, cfg, job.targets.All(ctx), result.Tee(append(sinks, w)...))
	})
	// Stopped because the reader of stdout went away, with no output
	// failing: no message, exit 141.
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitInterrupted && readerGone() {
		return errStdoutGone
	}
	if err != nil {
		return job.resumeHint(err)
	}
	return job.compareBaseline(g)
}

// runDetect runs the scan, through live service detection with
// --detect: the scan's results reach w once their ports are detected,
// and the run ends when the last detection has.
func runDetect(ctx context.Context, f *scanFlags, cfg scanner.Config, tgts iter.Seq2[targets.Target, error], w result.Sink) (result.Summary, error) {
	if !f.opts.Detect {
		return scanner.Run(ctx, cfg, tgts, w)
	}
	ds := detect.NewSink(ctx, detect.Config{Timeout: f.detectTimeout, ServiceProbes: f.probeFile, Intensity: f.intensity}, openEnded{w})
	stats, err := scanner.Run(ctx, cfg, tgts, ds)
	if derr := ds.End(stats); derr != nil && err == nil {
		err = fmt.Errorf("%w: %w", scanner.ErrSink, derr)
	}
	stats.End = time.Now()
	return stats, err
}

// openEnded passes every event but End on: the writers end later, when
// the run's summary is known.
type openEnded struct{ result.Sink }

func (openEnded) End(result.Summary) error { return nil }
