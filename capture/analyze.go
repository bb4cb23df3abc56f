package capture

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// Source is one capture for Analyze to read.
type Source struct {
	// Name says which capture it is in errors: a file name, "stdin".
	Name string
	// Open opens the stream when Analyze comes to it, so that only one
	// source is open at a time; Analyze closes what it returns once read.
	Open func() (io.ReadCloser, error)
}

// File returns a Source that opens the file at path when its turn comes;
// its Name is path.
func File(path string) Source {
	return Source{Name: path, Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return f, nil
	}}
}

// Stream returns a Source for a stream that is open already, such as
// standard input. Analyze does not close it.
func Stream(name string, r io.Reader) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// AnalyzeOptions tune Analyze. The zero value analyses with the default
// bounds, labels nothing and writes nothing but the report.
type AnalyzeOptions struct {
	// Options are the Analyzer's: the catalog's Label and the bounds.
	Options
	// Info opens the run on the sink. Analyze sets Start to the time of
	// the first packet, ScanType to "pcap" and Protocols to tcp and udp:
	// the capture decides them. The rest (Args, Version) is the
	// caller's; Lang also picks the language of Annotate's comments.
	Info result.Info
	// Packets, if not nil, gets a tcpdump-like line per packet (see
	// AppendLine) as the packets are read, through a buffer flushed
	// before the report.
	Packets io.Writer
	// Annotate, if not nil, gets a copy of the capture as pcapng with a
	// comment on each packet naming its service (see Annotator, Comment).
	Annotate io.Writer
	// OnError, if not nil, is called as soon as a source fails, before
	// the next one is read, so that the caller can say so at once.
	OnError func(*SourceError)
	// OnRead, if not nil, is called once every source is read and
	// Packets and Annotate are flushed, just before the report goes to
	// the sink: a caller whose packet lines and report share a stream
	// separates them there.
	OnRead func()
}

// Stats are what Analyze did.
type Stats struct {
	// Summary is what the sink's End received; its Capture is set.
	Summary result.Summary
	// Counters break the summary's capture counts down, skips by reason.
	Counters Counters
	// Sources is how many sources were opened: all of them, unless
	// Analyze was interrupted or an output failed.
	Sources int
}

// SourceError is why one source could not be read to its end. Err is a
// *ReadError, whose Kind is ErrNotCapture, ErrTruncated or ErrCorrupt,
// or the error of the source's Open. The packets read before it are
// analysed and reported.
type SourceError struct {
	Name string
	Err  error

	noCapture bool // it failed before a capture header was read
}

// unread says the source could not be opened or is no capture.
func (e *SourceError) unread() bool { return e.noCapture }

// Error prints the source's name and what went wrong with it.
func (e *SourceError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap returns Err, for errors.Is and errors.As.
func (e *SourceError) Unwrap() error { return e.Err }

// OutputError is the failure of one of Analyze's outputs: the packet
// lines, the annotated copy or the sink. A failing Packets or Annotate
// stops the reading; the report still goes to the sink, so that its
// documents are closed.
type OutputError struct {
	Err error
}

// Error says that an output could not be written, and why.
func (e *OutputError) Error() string { return "writing output: " + e.Err.Error() }

// Unwrap returns Err.
func (e *OutputError) Unwrap() error { return e.Err }

// checkEvery is how many packets Analyze reads between two looks at its
// context, one batch: often enough for Ctrl-C to feel instant, rarely
// enough to cost nothing.
const checkEvery = batchPackets

// Analyze reads the sources in order, as one capture, and reports what
// their traffic shows to sink: Begin, then a Port per service and a Host
// per server address (see Analyzer.Report), then End with the summary and
// its capture counts. Unlike scanner.Run it opens and closes the run
// itself, since the run starts with the first packet, which is known
// only once the sources are read.
//
// When no source is a capture at all (each is missing or no capture),
// nothing is reported: sink sees no event, as there is no run to open.
// A source that fails (missing, no capture, truncated, corrupt) does not
// stop the others: the packets read before the failure stand, and its
// *SourceError is handed to opt.OnError and returned. When ctx is
// cancelled (it is checked between sources and every few thousand
// packets) the reading stops, what was read is reported with
// Summary.Interrupted set, and ctx's error is returned. The errors of
// the outputs are returned as an *OutputError. Analyze returns every
// error it met, joined: errors.Is and errors.As see through them.
func Analyze(ctx context.Context, sources []Source, opt AnalyzeOptions, sink result.Sink) (Stats, error) {
	a := newAnalysis(&opt)
	var (
		st          Stats
		errs        []error
		interrupted bool
		unread      int // sources that are no capture, or could not be opened
	)
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			errs, interrupted = append(errs, err), true
			break
		}
		st.Sources++
		err := a.read(ctx, src)
		if se, ok := err.(*SourceError); ok {
			if se.unread() {
				unread++
			}
			errs = append(errs, se)
			if opt.OnError != nil {
				opt.OnError(se)
			}
			continue
		}
		if err == errOutput {
			break
		}
		if err != nil {
			errs, interrupted = append(errs, err), true
			break
		}
	}
	a.flush()
	if opt.OnRead != nil {
		opt.OnRead()
	}
	if unread == len(sources) && len(sources) > 0 {
		return st, errors.Join(errs...)
	}
	st.Summary = a.report(sink, opt.Info, interrupted)
	st.Counters = a.an.Counters()
	if a.out != nil {
		errs = append(errs, &OutputError{Err: a.out})
	}
	return st, errors.Join(errs...)
}

// analysis is the state of one Analyze call.
type analysis struct {
	opt   *AnalyzeOptions
	an    *Analyzer
	pipe  *pipe
	dec   *Decoder
	d     Decoded
	trace bool // packet lines or an annotated copy are written
	lines *bufio.Writer
	line  []byte
	ann   *Annotator
	out   error // the first error of an output
}

func newAnalysis(opt *AnalyzeOptions) *analysis {
	a := &analysis{opt: opt, an: NewAnalyzer(opt.Options), pipe: newPipe(), dec: NewDecoder()}
	if opt.Packets != nil {
		a.lines = bufio.NewWriterSize(opt.Packets, 64<<10)
	}
	if opt.Annotate != nil {
		a.ann = NewAnnotator(opt.Annotate)
	}
	a.trace = a.lines != nil || a.ann != nil
	return a
}

// read feeds every packet of src to the analyzer: a goroutine reads
// them, in batches, while this one decodes and analyses. It returns a
// *SourceError if src cannot be read to its end, ctx's error if it is
// cancelled, or errOutput if an output failed (a.out says why).
func (a *analysis) read(ctx context.Context, src Source) error {
	rc, err := src.Open()
	if err != nil {
		return &SourceError{Name: src.Name, Err: err, noCapture: true}
	}
	defer rc.Close()
	r, err := NewReader(rc)
	if err != nil {
		return &SourceError{Name: src.Name, Err: err, noCapture: true}
	}
	a.pipe.start(r)
	defer a.pipe.halt()
	for {
		b := <-a.pipe.full
		written := true
		for i := range b.pkts {
			p := &b.pkts[i]
			a.dec.Decode(p.LinkType, p.Data, &a.d)
			a.an.Add(p.Time, &a.d)
			if a.trace && !a.write(p, &a.d) {
				written = false
				break
			}
		}
		err := b.err
		a.pipe.free <- b
		switch {
		case !written:
			return errOutput
		case err == io.EOF:
			return nil
		case err != nil:
			return &SourceError{Name: src.Name, Err: err}
		case ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// errOutput tells Analyze that an output failed; the error itself is in
// analysis.out.
var errOutput = errors.New("output failed")

// write writes the packet line and the annotated copy of p, the packet
// just added; it reports whether they were written.
func (a *analysis) write(p *Packet, d *Decoded) bool {
	srv := a.an.LastServer()
	label := a.opt.Label
	if a.lines != nil {
		a.line = AppendLine(a.line[:0], p, d, srv, label)
		a.line = append(a.line, '\n')
		if _, err := a.lines.Write(a.line); err != nil {
			return a.fail(err)
		}
	}
	if a.ann != nil {
		if err := a.ann.Write(p, Comment(d, srv, label, a.opt.Info.Lang)); err != nil {
			return a.fail(err)
		}
	}
	return true
}

// fail records the first error of an output and returns false.
func (a *analysis) fail(err error) bool {
	if a.out == nil {
		a.out = err
	}
	return false
}

// flush writes out the packet lines and the annotated copy.
func (a *analysis) flush() {
	if a.lines != nil {
		if err := a.lines.Flush(); err != nil {
			a.fail(err)
		}
	}
	if a.ann != nil {
		if err := a.ann.Flush(); err != nil {
			a.fail(err)
		}
	}
}

// report emits the run to sink: Begin, the analyzer's report, End. Each
// is called even if one before failed, so that every document closes.
func (a *analysis) report(sink result.Sink, info result.Info, interrupted bool) result.Summary {
	info.Start, _ = a.an.Span()
	info.ScanType = "pcap"
	info.Protocols = []ports.Protocol{ports.TCP, ports.UDP}
	if err := sink.Begin(info); err != nil {
		a.fail(err)
	}
	sum, err := a.an.Report(sink)
	if err != nil {
		a.fail(err)
	}
	sum.Interrupted = interrupted
	c := a.an.Counters()
	sum.Capture = &result.CaptureStats{Packets: c.Packets, Skipped: c.SkippedTotal(), Flows: c.Flows,
		EvictedIdle: c.Idle, EvictedFull: c.Full, Unreported: c.Overflow}
	if err := sink.End(sum); err != nil {
		a.fail(err)
	}
	return sum
}
