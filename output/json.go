package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/portscan/portscan/result"
)

// jsonlWriter writes one JSON object per line, each as it comes, in one
// Write call of the whole line: a process killed between two write(2)
// calls leaves whole lines only, however long a line is. It keeps counts
// of each host in flight, for the host line of one whose Host call never
// comes.
type jsonlWriter struct {
	w     io.Writer
	opt   Options
	hosts inflight
	shard *int // of the run, on every port and host line
}

func newJSONL(w io.Writer, opt Options) *jsonlWriter {
	return &jsonlWriter{w: w, opt: opt, hosts: make(inflight)}
}

// marshal is json.MarshalIndent without the escaping of <, > and &,
// which only matters for JSON embedded in HTML.
func marshal(v any, prefix, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (j *jsonlWriter) line(v any) error {
	b, err := marshal(v, "", "")
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

func (j *jsonlWriter) begin(info result.Info) error {
	rec := scanRecord(info)
	rec.Type = "scan"
	j.shard = shardIndex(info)
	return j.line(rec)
}

func (j *jsonlWriter) port(r result.Port) error {
	j.hosts.get(hostKey{r.Host, r.Hostname}).add(r, false) // counted only
	if !j.opt.shows(r.State) {
		return nil
	}
	rec := portRecord(r)
	rec.Type = "port"
	rec.Shard = j.shard
	return j.line(rec)
}

// host writes every host's line, down ones included: programs read it.
func (j *jsonlWriter) host(h result.Host) error {
	b := j.hosts.take(hostKey{h.Addr, h.Hostname})
	rec := hostRecord(h, b.latency())
	rec.Type = "host"
	rec.Shard = j.shard
	return j.line(rec)
}

func (j *jsonlWriter) end(s result.Summary) error {
	for _, b := range j.hosts.drain() {
		h := b.unfinished()
		count(&s, h)
		rec := hostRecord(h, b.latency())
		rec.Type = "host"
		rec.Shard = j.shard
		if err := j.line(rec); err != nil {
			return err
		}
	}
	rec := summaryRecord(s)
	rec.Type = "summary"
	return j.line(rec)
}

// jsonWriter writes a single JSON document, one host object at a time.
type jsonWriter struct {
	w      *bufio.Writer
	opt    Options
	hosts  inflight
	nhosts int
	shard  *int // of the run, on every host and port object
}

func newJSON(w io.Writer, opt Options) *jsonWriter {
	return &jsonWriter{w: bufio.NewWriter(w), opt: opt, hosts: make(inflight)}
}

// jsonHost is a host object of the json document.
type jsonHost struct {
	HostRecord
	Ports []PortRecord `json:"ports"`
}

// value writes v indented to sit at depth one inside the document.
func (j *jsonWriter) value(v any) error {
	b, err := marshal(v, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = j.w.Write(b)
	return err
}

func (j *jsonWriter) begin(info result.Info) error {
	j.shard = shardIndex(info)
	j.w.WriteString("{\n  \"scan\": ")
	if err := j.value(scanRecord(info)); err != nil {
		return err
	}
	j.w.WriteString(",\n  \"hosts\": [")
	return j.w.Flush()
}

func (j *jsonWriter) port(r result.Port) error {
	j.hosts.get(hostKey{r.Host, r.Hostname}).add(r, j.opt.shows(r.State))
	return nil
}

func (j *jsonWriter) host(h result.Host) error {
	b := j.hosts.take(hostKey{h.Addr, h.Hostname})
	return j.write(h, b)
}

// write writes every host, down ones included: programs read it.
func (j *jsonWriter) write(h result.Host, b *hostBuf) error {
	list := b.finish(nil, nil)
	obj := jsonHost{HostRecord: hostRecord(h, b.latency()), Ports: make([]PortRecord, 0, len(list))}
	obj.Shard = j.shard
	for _, r := range list {
		rec := portRecord(r)
		rec.Shard = j.shard
		obj.Ports = append(obj.Ports, rec)
	}
	if j.nhosts > 0 {
		j.w.WriteByte(',')
	}
	j.nhosts++
	j.w.WriteString("\n    ")
	b2, err := marshal(obj, "    ", "  ")
	if err != nil {
		return err
	}
	j.w.Write(b2)
	return j.w.Flush()
}

func (j *jsonWriter) end(s result.Summary) error {
	for _, b := range j.hosts.drain() {
		h := b.unfinished()
		count(&s, h)
		if err := j.write(h, b); err != nil {
			return err
		}
	}
	if j.nhosts > 0 {
		j.w.WriteString("\n  ")
	}
	j.w.WriteString("],\n  \"summary\": ")
	if err := j.value(summaryRecord(s)); err != nil {
		return err
	}
	j.w.WriteString("\n}\n")
	return j.w.Flush()
}
