package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/resume"
	"github.com/portscan/portscan/scanner"
)

// scanOutput is one output of a scan: the flag that names it, its path
// ("-" is standard output) and its format.
type scanOutput struct {
	flag, path, format string
}

// outputs lists the scan's outputs: the main one (--format on stdout,
// or -o FILE), then nmap's (--output-xml, --output-normal,
// --output-grepable, and the three of --output-all), then
// --output-html. As in nmap, an
// output of nmap's on stdout takes the place of the main one when
// neither -o nor --format was given.
func (f *scanFlags) outputs() []scanOutput {
	var extra []scanOutput
	for _, o := range []scanOutput{{"--output-xml", f.outXML, "xml"}, {"--output-normal", f.outNormal, "text"}, {"--output-grepable", f.outGrepable, "grepable"}} {
		if o.path != "" {
			extra = append(extra, o)
		}
	}
	if f.outAll != "" {
		for _, o := range []struct{ ext, format string }{{".nmap", "text"}, {".xml", "xml"}, {".gnmap", "grepable"}} {
			extra = append(extra, scanOutput{"--output-all", f.outAll + o.ext, o.format})
		}
	}
	if f.outHTML != "" {
		extra = append(extra, scanOutput{"--output-html", f.outHTML, "html"})
	}
	if f.noMain {
		return extra
	}
	main := scanOutput{"--output", f.out, f.format}
	if main.path == "" {
		main.path = "-"
		if !f.given("format") && slices.ContainsFunc(extra, func(o scanOutput) bool { return o.path == "-" }) {
			return extra
		}
	}
	return append([]scanOutput{main}, extra...)
}

// outputPaths are the paths of the outputs, for checkPaths.
func (f *scanFlags) outputPaths() []pathArg {
	var out []pathArg
	for _, o := range f.outputs() {
		out = append(out, pathArg{flag: o.flag, path: o.path})
	}
	if f.resume != "" {
		out = append(out, pathArg{flag: "--resume", path: f.resume})
	}
	return out
}

// inputPaths are the files a scan reads: --baseline's may be one of
// its outputs, as it is read before they are created.
func (f *scanFlags) inputPaths(g *globals) []pathArg {
	in := []pathArg{{flag: "--input-list", path: f.opts.InputList}, {flag: "--exclude-file", path: f.opts.ExcludeFile}}
	for _, c := range g.catalogs {
		in = append(in, pathArg{flag: "--services", path: c})
	}
	return append(in, pathArg{flag: "--baseline", path: f.baseline, sharedBy: func(string) bool { return true }})
}

// openOutputs opens the scan's outputs, each a result.Sink. The files
// are closed with the job.
func (j *scanJob) openOutputs(g *globals, f *scanFlags, show map[result.State]bool) error {
	xsl := f.xsl.href()
	all, down := shownInFull(f)
	// A discovery run says why each host is up. As nmap's -sn, it lists
	// the hosts up, and counts the others (--show down lists them): a
	// /16 has tens of thousands.
	reason := f.reason || f.discoverOnly
	for _, o := range f.outputs() {
		dest, colour := g.stdout, false
		opt := output.Options{Show: show, ShowAll: all, ShowDown: down, Lang: g.lang, Reason: reason, Stylesheet: xsl}
		var file *os.File
		if o.path == "-" {
			colour = o.flag == "--output" && g.useColor(g.stdout)
		} else if j.resume != nil && j.resume.from != nil {
			if err := j.continueOutput(o, opt); err != nil {
				j.close()
				return err
			}
			continue
		} else {
			var err error
			if file, err = os.Create(o.path); err != nil {
				j.close()
				return fmt.Errorf("%s: %w", o.flag, err)
			}
			j.closers = append(j.closers, file)
			dest = file
		}
		opt.Color = colour
		w, err := output.New(o.format, dest, opt)
		if err != nil {
			j.close()
			return err
		}
		j.sinks = append(j.sinks, w)
		if file != nil {
			j.files = append(j.files, resume.Output{Flag: o.flag, Path: o.path, Format: o.format, File: file, Writer: w})
		}
	}
	return nil
}

// pathArg is a file a command writes or reads, with the flag (or the
// argument) that names it; "-" is standard output or input, "" none.
type pathArg struct {
	flag, path string
	// sharedBy reports whether the output of the flag given may be this
	// input: one that is read whole before the outputs are created, and
	// documented as such (--baseline).
	sharedBy func(flag string) bool
}

// checkPaths refuses, before any file is created, two outputs that
// would write to one file (the same path once cleaned and made
// absolute, or the same file through a symbolic or hard link), two
// outputs on standard output, and an output that would overwrite an
// input.
func checkPaths(outs, ins []pathArg) error {
	type seen struct {
		pathArg
		key string
		fi  os.FileInfo
	}
	var files []seen
	stdout := ""
	for _, o := range outs {
		switch o.path {
		case "":
			continue
		case "-":
			if stdout != "" {
				return fmt.Errorf("%s and %s both write to standard output; send one to a file", stdout, o.flag)
			}
			stdout = o.flag
			continue
		}
		key, fi := fileKey(o.path)
		for _, s := range files {
			if s.key == key || fi != nil && s.fi != nil && os.SameFile(fi, s.fi) {
				return fmt.Errorf("%s and %s both write to %s", s.flag, o.flag, filepath.Clean(s.path))
			}
		}
		files = append(files, seen{o, key, fi})
	}
	for _, in := range ins {
		if in.path == "" || in.path == "-" {
			continue
		}
		key, fi := fileKey(in.path)
		for _, s := range files {
			if (s.key == key || fi != nil && s.fi != nil && os.SameFile(fi, s.fi)) && (in.sharedBy == nil || !in.sharedBy(s.flag)) {
				return fmt.Errorf("%s would overwrite %s %s", s.flag, in.flag, filepath.Clean(in.path))
			}
		}
	}
	return nil
}

// fileKey names the file path is or would be: its absolute path with
// the symbolic links resolved, those of a link that names a file not
// yet made too; and its FileInfo if it exists, for os.SameFile, which
// sees hard links.
func fileKey(path string) (string, os.FileInfo) {
	fi, _ := os.Stat(path)
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path), fi
	}
	for range 40 { // the links Linux follows, at most
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return real, fi
		}
		target, err := os.Readlink(abs)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(abs), target)
		}
		abs = target
	}
	dir, base := filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(real, base), fi
	}
	return abs, fi
}

// emit runs produce, which sends a run's results to the sink it is
// given, between Begin and End: the one way a command's results reach
// its sinks, all of them through one result.Tee. Should produce or a
// sink panic, the sinks are ended first, as interrupted, so that the
// documents written so far stay whole, and the panic goes on.
//
// The error is, by precedence: a sink's (exit 1; a producer's error
// that wraps scanner.ErrSink is one), an interruption (exit 130), too
// low an open-file limit (scanner.ErrFileLimit, exit 2), the producer's
// own (exit 1).
func emit(sinks []result.Sink, info result.Info, produce func(result.Sink) (result.Summary, error)) error {
	w := result.Tee(sinks...)
	if err := w.Begin(info); err != nil {
		// Close the outputs that did begin, so that they stay valid.
		w.End(result.Summary{Start: info.Start, End: time.Now(), Interrupted: true})
		return &exitError{code: exitFail, err: err}
	}
	ended := false
	defer func() {
		if r := recover(); r != nil {
			if !ended {
				w.End(result.Summary{Interrupted: true})
			}
			panic(r)
		}
	}()
	stats, err := produce(w)
	var werr error
	if errors.Is(err, scanner.ErrSink) {
		werr, err = err, nil
	}
	ended = true
	if eerr := w.End(stats); eerr != nil && werr == nil {
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
	return nil
}
