package output

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/portscan/portscan/result"
)

// CSVHeader is the first row of csv output; the columns are those of
// PortRecord, with the evidence object spread over the last eight.
var CSVHeader = []string{
	"host", "hostname", "port", "protocol", "state", "reason",
	"service", "description", "description_en", "service_source",
	"rtt_ms", "time", "source",
	"flows", "clients", "packets_to_server", "packets_from_server",
	"bytes_to_server", "bytes_from_server", "first_seen", "last_seen",
}

// csvWriter writes the header, then one row per shown port as it comes.
type csvWriter struct {
	w   *csv.Writer
	opt Options
}

func newCSV(w io.Writer, opt Options) *csvWriter {
	return &csvWriter{w: csv.NewWriter(w), opt: opt}
}

func (c *csvWriter) row(rec []string) error {
	if err := c.w.Write(rec); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) begin(result.Info) error { return c.row(CSVHeader) }

func (c *csvWriter) port(r result.Port) error {
	if !c.opt.shows(r.State) {
		return nil
	}
	p := portRecord(r)
	rec := []string{
		p.Host, p.Hostname, strconv.Itoa(int(p.Port)), p.Protocol.String(), p.State.String(), p.Reason,
		p.Service, p.Description, p.DescriptionEn, p.ServiceSource,
		strconv.FormatFloat(p.RTTms, 'f', -1, 64), csvTime(r.Time), p.Source,
	}
	if e := p.Evidence; e != nil {
		rec = append(rec,
			strconv.Itoa(e.Flows), strconv.Itoa(e.Clients),
			strconv.FormatUint(e.PacketsIn, 10), strconv.FormatUint(e.PacketsOut, 10),
			strconv.FormatUint(e.BytesIn, 10), strconv.FormatUint(e.BytesOut, 10),
			csvTime(e.FirstSeen), csvTime(e.LastSeen))
	} else {
		rec = append(rec, "", "", "", "", "", "", "", "")
	}
	return c.row(rec)
}

func (c *csvWriter) host(result.Host) error { return nil }

func (c *csvWriter) end(result.Summary) error {
	c.w.Flush()
	return c.w.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
