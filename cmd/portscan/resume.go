package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/resume"
	"github.com/portscan/portscan/scanner"
	"github.com/portscan/portscan/shard"
)

// addResumeFlags adds the flags of a scan that can be resumed; the
// audit's scans have none.
func addResumeFlags(cmd *cobra.Command, f *scanFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.resume, "resume", "", "keep the scan's state in `STATE`, and go on from it if it is there: portscan --resume STATE alone resumes with the arguments it holds")
	fl.DurationVar(&f.resumeEvery, "resume-every", resume.DefaultEvery, "with --resume, how often the state is saved, every `DURATION` (and on Ctrl-C, SIGTERM and at the end)")
}

// resumeOnly handles "portscan --resume STATE" alone (with at most
// --resume-every and the global flags): the scan's arguments come from
// the state, and the flags given there take the place of its own. It
// returns the arguments to run with, or, when the run is over before
// it starts, done and the exit status.
func resumeOnly(g *globals, args []string) (_ []string, code int, done bool) {
	var path string
	var given []string
	quiet := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch name {
		case "--resume", "--resume-every", "--color", "--lang", "--services":
			if !hasValue {
				if i+1 >= len(args) {
					return args, 0, false // cobra says what is missing
				}
				i++
				value = args[i]
			}
			if name == "--resume" {
				path = value
			}
			given = append(given, name+"="+value)
		case "-q", "--quiet":
			quiet = true
			given = append(given, a)
		default:
			return args, 0, false // a scan's arguments are given
		}
	}
	if path == "" {
		return args, 0, false
	}
	st, err := resume.ReadFile(path)
	switch {
	case err != nil:
		fmt.Fprintf(g.stderr, "portscan: --resume: %s\n", text.OneLine(err.Error()))
		return nil, exitUsage, true
	case st == nil:
		fmt.Fprintf(g.stderr, "portscan: --resume: no state in %s: give the scan's arguments to start it\n", text.OneLine(path))
		return nil, exitUsage, true
	case st.Done:
		if !quiet {
			fmt.Fprintf(g.stderr, "portscan: %s\n", text.OneLine(doneNote(path, st).Error()))
		}
		return nil, exitOK, true
	}
	rest := withoutResumeFlags(st.Args)
	at := slices.Index(rest, "--")
	if at < 0 {
		at = len(rest)
	}
	return slices.Concat(rest[:at], given, rest[at:]), 0, false
}

func doneNote(path string, st *resume.State) error {
	return fmt.Errorf("--resume %s: the scan finished at %s; nothing left to do", path, st.Saved.Format(time.RFC3339))
}

// withoutResumeFlags is args without their --resume and --resume-every
// flags, up to a "--".
func withoutResumeFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--resume" || a == "--resume-every" {
			i++
			continue
		}
		if strings.HasPrefix(a, "--resume=") || strings.HasPrefix(a, "--resume-every=") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// resumeJob is what a scan with --resume adds to its job: the state it
// goes on from (nil for a new scan), and the recorder.
type resumeJob struct {
	path  string
	every time.Duration
	from  *resume.State
	def   resume.Definition
	rec   *resume.Recorder
}

// prepareResume reads the --resume state, if any, and checks that it is
// of this scan; it gives the engine the seed and the progress to go on
// from. For the state of a scan that finished, it returns an
// *exitError of status 0 that says so.
func (j *scanJob) prepareResume(g *globals, f *scanFlags) error {
	if f.resume == "" {
		return nil
	}
	switch {
	case f.resumeEvery <= 0:
		return fmt.Errorf("invalid --resume-every %v: must be more than 0", f.resumeEvery)
	case f.baseline != "":
		return errors.New("--resume and --baseline exclude each other: compare the finished output with portscan diff")
	case f.opts.InputList == "-":
		return errors.New("--resume needs the targets again when it resumes: give --input-list a file, not standard input")
	}
	def, err := scanDefinition(f, j)
	if err != nil {
		return err
	}
	r := &resumeJob{path: f.resume, every: f.resumeEvery, def: def}
	j.resume = r
	st, err := resume.ReadFile(f.resume)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if st == nil {
		if err := writable(f.resume); err != nil {
			return fmt.Errorf("--resume %s: the state cannot be written there: %w", f.resume, err)
		}
		if !f.given("seed") {
			// A seed the state keeps, so that the run that goes on knows
			// each host's walk.
			j.cfg.Seed = randomSeed()
		}
		return nil
	}
	d := st.Definition.Diff(def)
	otherFP := st.Fingerprint != "" && j.info.Fingerprint != "" && st.Fingerprint != j.info.Fingerprint
	switch {
	case d != "" && otherFP:
		return fmt.Errorf("--resume %s is the state of another scan: %s (fingerprint %s in the state, %s now)", f.resume, d, st.Fingerprint, j.info.Fingerprint)
	case d != "":
		return fmt.Errorf("--resume %s is the state of another scan: %s", f.resume, d)
	case otherFP:
		return fmt.Errorf("--resume %s is the state of another scan: fingerprint %s in the state, %s now", f.resume, st.Fingerprint, j.info.Fingerprint)
	}
	if st.Done {
		// Nothing is left to do, and the command succeeds: a restarted
		// pod of a finished scan must.
		return &exitError{code: exitOK, err: doneNote(f.resume, st)}
	}
	files := map[string]resume.FileState{}
	for _, o := range st.Outputs {
		files[o.Flag+" "+o.Path] = o
	}
	for _, o := range f.outputs() {
		if o.path == "-" {
			continue
		}
		if fs, ok := files[o.flag+" "+o.path]; !ok || fs.Format != o.format {
			return fmt.Errorf("--resume %s: %s %s is not an output of the state's scan, which wrote %s", f.resume, o.flag, o.path, stateOutputs(st))
		}
		delete(files, o.flag+" "+o.path)
	}
	if len(files) > 0 {
		return fmt.Errorf("--resume %s: these arguments leave out outputs of the state's scan, which wrote %s", f.resume, stateOutputs(st))
	}
	eng, err := st.Engine(j.cfg.Ports)
	if err != nil {
		return fmt.Errorf("--resume %s: %w", f.resume, err)
	}
	j.cfg.Resume = eng
	j.cfg.Seed = st.Seed
	r.from = st
	return nil
}

// writable checks, before anything is sent, that a state can be made
// at path: that a file can be created beside it.
func writable(path string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

func stateOutputs(st *resume.State) string {
	var names []string
	for _, o := range st.Outputs {
		names = append(names, o.Flag+" "+o.Path)
	}
	if len(names) == 0 {
		return "no file"
	}
	return strings.Join(names, ", ")
}

// scanDefinition is what makes the scan the same scan, as the command
// line gives it: a resumed run must give the same. The files of targets
// count by their content.
func scanDefinition(f *scanFlags, j *scanJob) (resume.Definition, error) {
	o := f.opts
	d := resume.Definition{
		"targets": strings.Join(o.Targets, " "),
		"exclude": o.Exclude,
		"ports":   j.cfg.Ports.String(),
	}
	var protos []string
	for _, p := range j.info.Protocols {
		protos = append(protos, p.String())
	}
	d["protocols"] = strings.Join(protos, ",")
	switch {
	case o.IPv6:
		d["family"] = "ipv6"
	default:
		d["family"] = "ipv4"
	}
	if o.AllAddresses {
		d["all-addresses"] = "yes"
	}
	if f.given("seed") {
		d["seed"] = strconv.FormatUint(o.Seed, 10)
	}
	if j.cfg.SkipDiscovery {
		d["skip-discovery"] = "yes"
	}
	if j.cfg.DiscoverOnly {
		d["discover-only"] = "yes"
	}
	if s := j.info.Shard.String(); s != "" {
		d["shard"] = s
	}
	for name, path := range map[string]string{"input-list": o.InputList, "exclude-file": o.ExcludeFile} {
		if path == "" {
			continue
		}
		sum, err := fileDigest(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		d[name] = path + " sha256:" + sum
	}
	// What the outputs list port by port, and what they count: the
	// ports of hosts in flight are kept so.
	show, _ := showStates(f)
	all, down := shownInFull(f)
	var listed []string
	for _, s := range []result.State{result.Open, result.Closed, result.Filtered, result.OpenFiltered} {
		if show[s] || all[s] {
			listed = append(listed, s.String())
		}
	}
	if down {
		listed = append(listed, "down")
	}
	d["listed"] = strings.Join(listed, ",")
	return d, nil
}

func fileDigest(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// continueOutput reopens a file output of the state the scan goes on
// from, truncated to where the checkpoint left it, and continues its
// document.
func (j *scanJob) continueOutput(o scanOutput, opt output.Options) error {
	var fs resume.FileState
	for _, s := range j.resume.from.Outputs {
		if s.Flag == o.flag && s.Path == o.path {
			fs = s
		}
	}
	file, err := fs.Reopen()
	if err != nil {
		return fmt.Errorf("--resume %s: %s: %w", j.resume.path, o.flag, err)
	}
	j.closers = append(j.closers, file)
	w, err := output.Continue(o.format, file, opt, j.info, fs.Writer)
	if err != nil {
		return fmt.Errorf("--resume %s: %s %s: %w", j.resume.path, o.flag, o.path, err)
	}
	j.sinks = append(j.sinks, w)
	j.files = append(j.files, resume.Output{Flag: o.flag, Path: o.path, Format: o.format, File: file, Writer: w})
	return nil
}

// startRecorder puts the recorder of the --resume state before the
// outputs, and gives every output back the ports of the hosts the
// earlier run had in flight.
func (j *scanJob) startRecorder(g *globals, f *scanFlags, show map[result.State]bool) error {
	r := j.resume
	if r == nil {
		return nil
	}
	if r.from != nil {
		for _, s := range r.from.Settled(j.cfg.Label) {
			for _, w := range j.sinks {
				if err := output.Restore(w, s); err != nil {
					return err
				}
			}
		}
	}
	all, _ := shownInFull(f)
	opt := output.Options{Show: show, ShowAll: all}
	var owns func(uint64, int) bool
	if j.cfg.Shard.Sharded() {
		// The shard's plan, as the engine makes it: the steps of a
		// host's walk it does not own count as settled.
		plan, err := shard.New(j.cfg.Seed, j.cfg.Shard, j.cfg.Hosts, max(1, len(scanner.PortList(j.cfg.Ports))))
		if err != nil {
			return err
		}
		owns = plan.Owns
	}
	r.rec = resume.New(resume.Config{Path: r.path, Every: r.every, Args: g.args, Definition: r.def, Ports: j.cfg.Ports,
		Seed: j.cfg.Seed, Tries: j.cfg.Tries, Lists: opt.Lists, Owns: owns, Outputs: j.files, From: r.from}, result.Tee(j.sinks...))
	j.sinks = []result.Sink{r.rec}
	j.cfg.Watch = r.rec.Watch
	return nil
}

// resumeHint is the note an interrupted scan with --resume ends with.
func (j *scanJob) resumeHint(err error) error {
	var ee *exitError
	if j.resume == nil || !errors.As(err, &ee) || ee.code != exitInterrupted {
		return err
	}
	return &exitError{code: exitInterrupted, err: fmt.Errorf("%w; portscan --resume %s goes on from here", ee.err, j.resume.path)}
}

// randomSeed is a seed for a scan given none.
func randomSeed() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// recorder is the job's recorder, nil without --resume.
func (r *resumeJob) recorder() *resume.Recorder {
	if r == nil {
		return nil
	}
	return r.rec
}
