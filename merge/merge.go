package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// Options tune a merge. The zero value merges parts of one scan.
type Options struct {
	// Force merges files of different scan definitions (see
	// ErrMismatch); the report then carries no fingerprint.
	Force bool

	// Label names the ports of XML files from the catalog, with its
	// descriptions (the XML format has no place for them); nil leaves
	// them with the name the file gives. jsonl and json records carry
	// their own labels.
	Label services.Labeler

	// Version is the merger's portscan version, the report's when no
	// file was written by portscan (nmap's XML).
	Version string

	// Lang is the description language of text output, the report's
	// Info.Lang.
	Lang string
}

// MaxFiles is the most files one merge reads.
const MaxFiles = 1<<16 - 1

// Merger holds the index of the first reading of the files, and the
// files, open, for the second. Make one with Open; Run writes the
// report; Close closes the files.
type Merger struct {
	opt    Options
	files  []*file
	slots  chunked[slot] // every file's, sorted in target order
	groups []*group

	// The first segment read, against which the others are checked,
	// and the first of a sharded run.
	ref, shardRef *segment
	mixed         bool // Force merged files of different scans

	info  result.Info
	notes []string
}

// format is what a file holds.
type format uint8

const (
	formatJSONL format = iota + 1
	formatJSON
	formatXML
)

// file is one input.
type file struct {
	index int
	name  string
	f     *os.File
	size  int64
	kind  format
	segs  []*segment

	// The index of the file's records, until Open gathers the slots.
	slots chunked[slot]
	recs  recs
}

// segment is one run in a file: a json or XML document, or the lines of
// a jsonl file from one "scan" line to the next. A resumed run that
// appends to its jsonl file makes a second segment.
type segment struct {
	file  *file
	id    uint16 // its place in file.segs
	head  head
	tail  *tail // the summary; nil when the run wrote none (it was killed)
	group *group
	// hostProbes sums the probes of the segment's host records, which
	// stand for the summary's when there is none.
	hostProbes int64
}

// head is what a run says of itself before its results.
type head struct {
	portscan    bool // written by portscan (else by nmap)
	args        []string
	version     string
	start       time.Time
	scanType    string
	protocols   []ports.Protocol
	portsSpec   string
	numPorts    int
	seed        uint64
	fingerprint string
	shard       result.Shard
}

// tail is what a run says of itself after its results.
type tail struct {
	start, end  time.Time
	probes      int64
	interrupted bool
	capture     *result.CaptureStats
}

// group is a part of the scan: the runs of one shard of one scan (a
// run and the runs that resumed it), or of one file when its runs have
// no fingerprint. Within a group a host's later whole record counts
// its ports; across groups the counts add up.
type group struct {
	fingerprint string
	shard       result.Shard
	file        int // for runs without a fingerprint
	done        bool
	id          uint16 // its place in Merger.groups
}

// Open reads each file once, checks that they are parts of one scan
// (unless opt.Force) and indexes their records; the files stay open for
// Run. Files are read in parallel, as many at once as there are CPUs.
// Errors name the file and, for bad content, the line and column: the
// first file's that has one; they wrap ErrInput or ErrMismatch, or
// ctx's error when it ends first.
func Open(ctx context.Context, paths []string, opt Options) (*Merger, error) {
	if len(paths) == 0 {
		return nil, errors.New("no files to merge")
	}
	if len(paths) > MaxFiles {
		return nil, fmt.Errorf("%d files: at most %d merge at once", len(paths), MaxFiles)
	}
	m := &Merger{opt: opt, files: make([]*file, len(paths))}
	for i, p := range paths {
		m.files[i] = &file{index: i, name: p}
	}
	if err := m.indexAll(ctx); err != nil {
		m.Close()
		return nil, err
	}
	for _, f := range m.files {
		for _, s := range f.segs {
			if err := m.check(s); err != nil {
				m.Close()
				return nil, err
			}
			if s.group = m.groupOf(s); s.group == nil {
				m.Close()
				return nil, &InputError{Name: f.name, Offset: -1, Msg: fmt.Sprintf("more than %d parts of scans", MaxFiles)}
			}
		}
	}
	m.finish()
	return m, nil
}

// indexAll indexes the files, a few at once. A file's error stops the
// files after it, not those before, so that the error reported, the
// first file's, is the same whatever the timing.
func (m *Merger) indexAll(ctx context.Context) error {
	errs := make([]error, len(m.files))
	cancels := make([]context.CancelFunc, len(m.files))
	ctxs := make([]context.Context, len(m.files))
	for i := range m.files {
		ctxs[i], cancels[i] = context.WithCancel(ctx)
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range m.files {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := index(ctxs[i], f)
			if err == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			errs[i] = err
			for j := i + 1; j < len(m.files); j++ {
				cancels[j]()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Close closes the files.
func (m *Merger) Close() error {
	var errs []error
	for _, f := range m.files {
		if f.f != nil {
			errs = append(errs, f.f.Close())
			f.f = nil
		}
	}
	return errors.Join(errs...)
}

// Info is the merged run's information, for the writers' Begin: the
// first file's command line and scan, its fingerprint and seed, no
// shard, and the earliest start.
func (m *Merger) Info() result.Info { return m.info }

// Notes are what the caller may tell the user about the merge, one line
// each: the shards of the scan that no file holds, files of different
// scans merged by force.
func (m *Merger) Notes() []string { return m.notes }

// index reads the file f into its own index.
func index(ctx context.Context, f *file) error {
	path := f.name
	fail := func(msg string) error { return &InputError{Name: path, Offset: -1, Msg: msg} }
	if path == "-" {
		return fail("standard input cannot be merged: merge reads each file twice; save it to a file first")
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	f.f = fh
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fail("is a directory")
	}
	if !fi.Mode().IsRegular() {
		return fail("not a regular file: merge reads each file twice")
	}
	f.size = fi.Size()
	kind, base, err := detect(f)
	if err != nil {
		return err
	}
	f.kind = kind
	switch kind {
	case formatJSONL:
		err = indexJSONL(ctx, f, base)
	case formatJSON:
		err = indexJSON(ctx, f, base)
	default:
		err = indexXML(ctx, f, base)
	}
	if err != nil {
		return err
	}
	if len(f.segs) == 0 {
		return fail("no run in it")
	}
	return nil
}

// maxLine bounds one jsonl line, and the first line read to tell jsonl
// from json.
const maxLine = 1 << 20

// detect tells the format of f from its content, after a UTF-8 byte
// order mark and white space; base is where the content may start
// (after the mark).
func detect(f *file) (format, int64, error) {
	fail := func(line, col int, msg string) error {
		return &InputError{Name: f.name, Line: line, Col: col, Offset: -1, Msg: msg}
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f.f, 0, f.size), 64<<10)
	head, _ := br.Peek(8)
	switch {
	case capture.HasMagic(head):
		return 0, 0, fail(0, 0, "a packet capture, not a result file: merge joins the outputs of scans; read captures with portscan pcap")
	case bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")):
		return 0, 0, fail(0, 0, "UTF-16 byte order mark; expected UTF-8 text")
	}
	var base int64
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		base = 3
	}
	const want = "; expected portscan jsonl, json or XML, or nmap XML"
	line, col := 1, 1
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return 0, 0, fail(0, 0, "empty file"+want)
		}
		if err != nil {
			return 0, 0, err
		}
		switch c {
		case '\n':
			line, col = line+1, 1
			continue
		case ' ', '\t', '\r':
			col++
			continue
		case '<':
			return formatXML, base, nil
		case '{':
			br.UnreadByte()
			first, _ := readLine(br, nil, maxLine)
			var t struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(first, &t) == nil && t.Type != "" {
				return formatJSONL, base, nil
			}
			return formatJSON, base, nil
		}
		what := strconv.QuoteRune(rune(c))
		if c >= utf8.RuneSelf {
			what = fmt.Sprintf("byte 0x%02x", c)
		}
		return 0, 0, fail(line, col, "unexpected "+what+want)
	}
}

// errLineTooLong is readLine's error for a line longer than its limit.
var errLineTooLong = errors.New("line too long")

// readLine reads one line, without its newline, into buf (grown as
// needed) and returns it; io.EOF only when nothing was left. A line
// longer than limit is errLineTooLong, and the rest of it is read past.
func readLine(r *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	buf = buf[:0]
	long := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !long {
			if len(buf)+len(chunk) > limit+1 {
				long, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0 && !long:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, err
		}
		if long {
			return nil, errLineTooLong
		}
		return bytes.TrimSuffix(buf, []byte("\n")), nil
	}
}

// segment starts a run of f with head h.
func (f *file) segment(h head) (*segment, error) {
	if len(f.segs) >= MaxFiles {
		return nil, &InputError{Name: f.name, Offset: -1, Msg: fmt.Sprintf("more than %d runs in one file", MaxFiles)}
	}
	s := &segment{file: f, id: uint16(len(f.segs)), head: h}
	f.segs = append(f.segs, s)
	return s, nil
}

// check refuses a run that is not of the scan of the runs before it,
// unless Force: another fingerprint, or none beside one; shards of
// another split, or the whole scan beside its shards.
func (m *Merger) check(s *segment) error {
	h := s.head
	if ref := m.ref; ref == nil {
		m.ref = s
	} else if why := fingerprintMismatch(ref.head, h); why != "" {
		if !m.opt.Force {
			return &MismatchError{A: ref.file.name, B: s.file.name, Why: why}
		}
		m.mixed = true
	}
	if h.fingerprint == "" {
		return nil
	}
	if ref := m.shardRef; ref == nil {
		m.shardRef = s
	} else if ref.head.fingerprint == h.fingerprint && ref.head.shard.Count != h.shard.Count && !m.opt.Force {
		return &MismatchError{A: ref.file.name, B: s.file.name, Why: fmt.Sprintf("%s and %s of one scan, of different splits",
			shardName(ref.head.shard), shardName(h.shard))}
	}
	return nil
}

// fingerprintMismatch says how two runs' fingerprints differ; "" when
// they do not.
func fingerprintMismatch(a, b head) string {
	fa, fb := shortFingerprint(a.fingerprint), shortFingerprint(b.fingerprint)
	switch {
	case a.fingerprint == b.fingerprint:
		return ""
	case a.fingerprint == "":
		return "the first has no fingerprint (nmap's XML, or older output), the second fingerprint " + fb
	case b.fingerprint == "":
		return "the first has fingerprint " + fa + ", the second none (nmap's XML, or older output)"
	}
	return "fingerprint " + fa + " and fingerprint " + fb
}

// shortFingerprint writes a fingerprint as it is when it looks like
// one (portscan's are 32 hex digits): up to 64 letters, digits, dots,
// dashes and underscores; else quoted and cut short.
func shortFingerprint(fp string) string {
	ok := len(fp) <= 64
	for _, c := range []byte(fp) {
		ok = ok && ('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_')
	}
	if ok {
		return fp
	}
	return quote(fp)
}

func shardName(s result.Shard) string {
	if !s.Sharded() {
		return "the whole scan"
	}
	return "shard " + s.String()
}

// groupOf finds or makes the group of s.
func (m *Merger) groupOf(s *segment) *group {
	for _, g := range m.groups {
		if s.head.fingerprint != "" && g.fingerprint == s.head.fingerprint && g.shard == s.head.shard ||
			s.head.fingerprint == "" && g.fingerprint == "" && g.file == s.file.index {
			return g
		}
	}
	if len(m.groups) >= MaxFiles {
		return nil
	}
	g := &group{fingerprint: s.head.fingerprint, shard: s.head.shard, file: s.file.index, id: uint16(len(m.groups))}
	m.groups = append(m.groups, g)
	return g
}

// finish completes the index: each host's slots get its target index,
// the slots are sorted in target order, and the run's information and
// notes are made.
func (m *Merger) finish() {
	// Gather the files' slots, a chunk at a time.
	for _, f := range m.files {
		for i, c := range f.slots.chunks {
			for _, sl := range c {
				m.slots.add(sl)
			}
			f.slots.chunks[i] = nil
		}
		f.slots = chunked[slot]{}
	}
	// Group the slots of each host and give them all the smallest target
	// index any has: one part of a host without it (nmap's XML, the port
	// lines of a killed run) joins the host's place.
	sort.Sort(byFunc[slot]{&m.slots, byHost})
	for i := 0; i < m.slots.len(); {
		j, idx := i, uint64(0)
		for ; j < m.slots.len() && sameHost(m.slots.at(i), m.slots.at(j)) == 0; j++ {
			if x := m.slots.at(j).index; x != 0 && (idx == 0 || x < idx) {
				idx = x
			}
		}
		for k := i; k < j; k++ {
			m.slots.at(k).index = idx
		}
		i = j
	}
	sort.Sort(byFunc[slot]{&m.slots, byTarget})

	for _, f := range m.files {
		for _, s := range f.segs {
			if s.tail != nil && !s.tail.interrupted {
				s.group.done = true
			}
		}
	}
	m.info = m.runInfo()
	m.notes = m.shardNotes()
	if m.mixed {
		m.notes = append(m.notes, "files of different scans merged (--force): the report has no fingerprint")
	}
}

// runInfo is the merged run's information.
func (m *Merger) runInfo() result.Info {
	h := m.ref.head
	info := result.Info{Args: h.args, ScanType: h.scanType, Protocols: h.protocols, PortsSpec: h.portsSpec,
		NumPorts: h.numPorts, Version: m.opt.Version, Lang: m.opt.Lang, Seed: h.seed, Fingerprint: h.fingerprint}
	if m.mixed {
		info.Seed, info.Fingerprint = 0, ""
	}
	if h.portscan && h.version != "" {
		info.Version = h.version
	}
	for _, f := range m.files {
		for _, s := range f.segs {
			info.Start = earliest(info.Start, s.head.start)
		}
	}
	if h.portsSpec != "" {
		if set, err := ports.ParseSpec(h.portsSpec, ports.SpecOptions{Protocols: h.protocols}); err == nil {
			info.Ports = set
		}
	}
	return info
}

// shardNotes names the shards of the scan that no file holds.
func (m *Merger) shardNotes() []string {
	if m.mixed || m.shardRef == nil || !m.shardRef.head.shard.Sharded() {
		return nil
	}
	n := m.shardRef.head.shard.Count
	have := make(map[int]bool)
	for _, g := range m.groups {
		if g.fingerprint == m.shardRef.head.fingerprint && g.shard.Count == n {
			have[g.shard.Index] = true
		}
	}
	var missing []string
	for i := range n {
		if !have[i] {
			missing = append(missing, result.Shard{Index: i, Count: n}.String())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if len(missing) > 8 {
		missing = append(missing[:8], "...")
	}
	return []string{fmt.Sprintf("%s missing (%s): the report covers %d of the %d shards of the scan",
		text.Count(n-len(have), "shard is", "shards are"), strings.Join(missing, ", "), len(have), n)}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
