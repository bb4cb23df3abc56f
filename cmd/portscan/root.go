package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/services"
)

// Exit statuses, documented in the README and in --help.
const (
	exitOK          = 0
	exitFail        = 1 // not found, violations, differences, scan failure
	exitUsage       = 2 // bad flags, arguments or input files
	exitInterrupted = 130
	// exitPipe (141) is in stdout.go.
)

// exitError carries an exit status up to run; its message, if any, is
// printed as one line on stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// needFiles is the Args of a subcommand that reads one file or more: none
// is a usage error, what says which.
func needFiles(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErr("%s", what)
		}
		return nil
	}
}

// globals are the flags every subcommand shares.
type globals struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string // the command line given to run, without the program name
	color          string
	lang           string
	catalogs       []string
	quiet          bool

	catalog *services.Catalog // built by setup

	// resolve looks up host names; nil means the system resolver. Tests
	// set it so that they send no DNS query.
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// rawCheck says whether raw sockets may be opened; nil means
	// raw.Check. Tests set it to run as if unprivileged.
	rawCheck func() error
}

// setup checks the shared flags and loads the catalogs.
func (g *globals) setup() error {
	switch g.color {
	case "auto", "always", "never":
	default:
		return usageErr("invalid --color %q: want auto, always or never", g.color)
	}
	if g.lang == "" {
		g.lang = langFromEnv(os.Getenv)
	}
	if g.lang != "zh" && g.lang != "en" {
		return usageErr("invalid --lang %q: want zh or en", g.lang)
	}
	var cats []*services.Catalog
	for _, path := range g.catalogs {
		c, err := services.Open(path)
		if err != nil {
			return usageErr("--services: %v", err)
		}
		if note := skippedNote(c.Skipped()); note != "" && !g.quiet {
			fmt.Fprintf(g.stderr, "portscan: %s: %s\n", path, note)
		}
		cats = append(cats, c)
	}
	g.catalog = services.Merge(append(cats, services.Default())...)
	return nil
}

// skippedNote tells of the catalog lines left out for their protocol
// ("skipped 2 lines of protocols portscan does not scan (sctp 2)"), or
// returns "" when there were none.
func skippedNote(skipped map[string]int) string {
	total := 0
	var by []string
	for _, proto := range slices.Sorted(maps.Keys(skipped)) {
		total += skipped[proto]
		by = append(by, fmt.Sprintf("%s %d", proto, skipped[proto]))
	}
	if total == 0 {
		return ""
	}
	lines := "lines"
	if total == 1 {
		lines = "line"
	}
	return fmt.Sprintf("skipped %d %s of protocols portscan does not scan (%s)", total, lines, strings.Join(by, ", "))
}

// commandLine is the command line that reports record, as given to
// run, program name first.
func (g *globals) commandLine() []string {
	return append([]string{"portscan"}, g.args...)
}

// useColor decides colour for output written to w.
func (g *globals) useColor(w io.Writer) bool {
	switch g.color {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// langFromEnv picks zh or en from LC_ALL, LC_MESSAGES and LANG, in the
// order POSIX gives them precedence.
func langFromEnv(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "zh") {
				return "zh"
			}
			return "en"
		}
	}
	return "en"
}

const rootLong = `portscan finds the open TCP and UDP ports of hosts and labels each with a
service name and description from its catalog.

Exit status:
  0    success
  1    nothing found (services), violations or differences (audit, diff)
  2    usage or input error, or an open-file limit too low to scan
  130  interrupted (results so far are written)
  141  the reader of standard output went away (portscan ... | head)`

func newRoot(ctx context.Context, g *globals) *cobra.Command {
	var sf scanFlags
	root := &cobra.Command{
		Use:   "portscan [flags] TARGETS...",
		Short: "Find open TCP and UDP ports and label them with their services",
		Long:  rootLong,
		Example: `  portscan 10.0.0.0/24
  portscan -p 22,80,8000-8100 --open 192.168.1.1-50 scanme.example
  portscan -p- -Pn -oX scan.xml 127.0.0.1
  portscan --format jsonl -o results.jsonl -iL hosts.txt`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// Before any file is opened: under a limit that leaves the Go
			// runtime no room for its own descriptors, the first file
			// would kill the process.
			if err := scanner.PrepareFiles(); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return g.setup()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && sf.opts.InputList == "" {
				if sf.resume != "" {
					return usageErr("--resume %s: no targets: give the scan's arguments to start it, or --resume FILE alone to go on with a saved one", sf.resume)
				}
				return cmd.Help()
			}
			sf.parsed(cmd.Flags(), args)
			job, err := buildScan(cmd.Context(), g, &sf)
			if ee := (*exitError)(nil); errors.As(err, &ee) && ee.code == exitOK {
				if !g.quiet { // a --resume state of a scan that finished
					fmt.Fprintf(g.stderr, "portscan: %s\n", text.OneLine(ee.Error()))
				}
				return nil
			}
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return runScan(cmd.Context(), g, &sf, job)
		},
	}
	addScanFlags(root, &sf)
	addResumeFlags(root, &sf)
	root.Flags().Bool("version", false, "print portscan's version and exit")
	root.SetVersionTemplate("portscan {{.Version}}\n")
	root.SetContext(ctx)
	pf := root.PersistentFlags()
	pf.StringVar(&g.color, "color", "auto", "colour output: auto, always or never (NO_COLOR is honoured)")
	pf.StringVar(&g.lang, "lang", "", "description language, zh or en (default from LC_ALL, LC_MESSAGES, LANG)")
	pf.StringArrayVar(&g.catalogs, "services", nil, "extra service catalog `FILE` (/etc/services or portscan TSV format), taking precedence; repeatable")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "no progress or informational messages on stderr")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.AddCommand(newServicesCmd(g))
	root.AddCommand(newPcapCmd(g))
	root.AddCommand(newAuditCmd(g), newDiffCmd(g), newMergeCmd(g), newReportCmd(g))
	completeWords(root, "color", "auto", "always", "never")
	completeWords(root, "lang", "zh", "en")
	completeRest(root)
	withNmapHelp(root)
	return root
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(ctx, &globals{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

// runWith is run with the globals made by the caller.
func runWith(ctx context.Context, g *globals, args []string) int {
	stdin, stdout, stderr := g.stdin, g.stdout, g.stderr
	args, status, done := resumeOnly(g, args)
	if done {
		return status
	}
	g.args = args
	root := newRoot(ctx, g)
	args, err := nmapPings(nmapTiming(args))
	if err == nil {
		args, err = nmapSpellings(args)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portscan: %s\n", text.OneLine(err.Error()))
		return exitUsage
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err = root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if stdoutGone(err) {
		return exitPipe
	}
	code := exitUsage // cobra's own errors (unknown command, bad flag) are usage errors
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "portscan: %s\n", text.OneLine(msg))
	}
	return code
}

// nmapAliases maps the nmap options users type from habit, which are not
// valid GNU short flags, to portscan's long flags with the same meaning.
var nmapAliases = map[string]string{
	"-sT": "--tcp",
	"-sS": "--syn",
	"-sU": "--udp",
	"-sn": "--discover-only",
	"-Pn": "--skip-discovery",
	"-PN": "--skip-discovery",
	"-iL": "--input-list",
	"-p-": "--ports=-",
	"-F":  "--top-ports=100",
	"-sV": "--detect",
}

// nmapUnsupported explains the nmap options portscan does not take, so
// that a user typing them from habit learns why rather than reading
// "unknown shorthand flag".
var nmapUnsupported = map[string]string{
	"-sA": "the other raw TCP scans (-sA, -sF, -sN, -sX, -sW, -sM) are not done; portscan makes SYN scans (-sS), connect scans (-sT) and UDP scans (-sU)",
	"-O":  "OS detection is not done",
	"-A":  "-A (OS detection, scripts) is not done; for version detection give -sV (--detect)",
	"-sC": "NSE scripts are not run",
}

func init() {
	for _, o := range []string{"-sF", "-sN", "-sX", "-sW", "-sM"} {
		nmapUnsupported[o] = nmapUnsupported["-sA"]
	}
	nmapUnsupported["--script"] = nmapUnsupported["-sC"]
}

// nmapSpellings rewrites nmap-style options before flag parsing: the
// aliases above (nmapTiming does -T). It stops at "--", after which
// everything is an argument.
func nmapSpellings(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		a, err := nmapOutput(a)
		if err != nil {
			return nil, err
		}
		if why, ok := nmapUnsupported[strings.SplitN(a, "=", 2)[0]]; ok {
			return nil, fmt.Errorf("nmap's %s is not supported: %s", a, why)
		}
		if long, ok := nmapAliases[a]; ok {
			a = long
		}
		out = append(out, a)
	}
	return out, nil
}

// nmapOutputs are nmap's output flags portscan writes, by their letter.
var nmapOutputs = map[byte]string{'N': "--output-normal", 'X': "--output-xml", 'G': "--output-grepable", 'A': "--output-all"}

// nmapOutputsRefused explains nmap's other output flags.
var nmapOutputsRefused = map[byte]string{
	'S': "nmap's -oS (script kiddie output) is not written: it is nmap's joke, text with its letters garbled; use -oN FILE",
	'M': "nmap's -oM is not written: it is nmap's old name for grepable output; use -oG FILE",
	'H': "nmap's -oH is not written: nmap has no such output; portscan writes an HTML report with --output-html FILE (or --format html)",
}

// nmapOutput reads one argument as nmap's output flags: -oN, -oX, -oG
// and -oA, alone or with =FILE, become portscan's long flags. Any
// other -o followed by a letter is refused, since pflag would read it
// as -o with the rest for its file (-oS x would write to a file named
// S, and scan x): nmap's refused forms with their reason, the glued
// -oXFILE as ambiguous, the rest as no output flag. So is a group of
// short flags that ends in -o and a letter (-nqoX).
func nmapOutput(a string) (string, error) {
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	rest, ok := strings.CutPrefix(a, "-o")
	if !ok || rest == "" || !isLetter(rest[0]) {
		if i := strings.IndexByte(a, 'o'); len(a) > 2 && a[0] == '-' && i > 1 && i+1 < len(a) && isLetter(a[i+1]) &&
			strings.Trim(a[1:i], "46nq") == "" {
			return "", fmt.Errorf("%s: give -o apart: -o followed by letters reads as one of nmap's -oN, -oX, -oG, -oA", a)
		}
		return a, nil
	}
	letter, tail := rest[0], rest[1:]
	if why, ok := nmapOutputsRefused[letter]; ok {
		return "", errors.New(why)
	}
	long, ok := nmapOutputs[letter]
	switch {
	case !ok:
		return "", fmt.Errorf("%s is no output flag: nmap's are -oN, -oX, -oG and -oA FILE, and portscan's -o FILE is given apart", a)
	case tail == "":
		return long, nil
	case tail[0] == '=':
		return long + tail, nil
	}
	return "", fmt.Errorf("%s is ambiguous: write -o%c %s (%s), or -o %s for the main output", a, letter, tail, long, rest)
}
