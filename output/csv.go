package output

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/result"
)

// CSVHeader is the first row of csv output; the columns are those of
// PortRecord but TTL and ReasonIP, with the evidence object spread over
// eight, then the detected object over the last 21 (its CPE names and
// SANs joined with spaces), empty where detection did not run.
var CSVHeader = []string{
	"host", "hostname", "port", "protocol", "state", "reason",
	"service", "description", "description_en", "service_source",
	"rtt_ms", "time", "source",
	"flows", "clients", "packets_to_server", "packets_from_server",
	"bytes_to_server", "bytes_from_server", "first_seen", "last_seen",
	"detected_name", "detected_tunnel", "product", "version", "info", "cpe",
	"method", "confidence", "banner", "label",
	"tls_version", "tls_cipher", "tls_alpn", "tls_subject", "tls_sans", "tls_issuer",
	"tls_not_before", "tls_not_after", "tls_self_signed", "tls_chain_length", "tls_sni",
}

// csvWriter writes the header, then one row per shown port as it comes,
// each in one Write call of the whole row: csv.Writer's own buffer would
// split a row longer than it across two write(2) calls, and a process
// killed between them would leave half a row.
type csvWriter struct {
	w   io.Writer
	buf bytes.Buffer
	enc *csv.Writer // into buf
	opt Options
}

func newCSV(w io.Writer, opt Options) *csvWriter {
	c := &csvWriter{w: w, opt: opt}
	c.enc = csv.NewWriter(&c.buf)
	return c
}

func (c *csvWriter) row(rec []string) error {
	c.buf.Reset()
	if err := c.enc.Write(rec); err != nil {
		return err
	}
	c.enc.Flush()
	if err := c.enc.Error(); err != nil {
		return err
	}
	_, err := c.w.Write(c.buf.Bytes())
	return err
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
	return c.row(append(rec, csvDetected(p.Detected, p.Label)...))
}

// csvDetected spreads a detected object over its 21 columns, each
// escaped as text is: a spreadsheet shows no control bytes either.
func csvDetected(d *DetectedRecord, label string) []string {
	if d == nil {
		return make([]string, 21)
	}
	rec := []string{
		d.Name, d.Tunnel, d.Product, d.Version, d.Info, strings.Join(d.CPE, " "),
		d.Method, strconv.Itoa(d.Confidence), d.Banner, label,
	}
	if t := d.TLS; t != nil {
		var before, after time.Time
		if t.NotBefore != nil {
			before = *t.NotBefore
		}
		if t.NotAfter != nil {
			after = *t.NotAfter
		}
		rec = append(rec, t.Version, t.Cipher, t.ALPN, t.Subject, strings.Join(t.SANs, " "), t.Issuer,
			csvTime(before), csvTime(after), strconv.FormatBool(t.SelfSigned), strconv.Itoa(t.ChainLength), t.SNI)
	} else {
		rec = append(rec, make([]string, 11)...)
	}
	for i := range rec {
		rec[i] = text.Escape(rec[i])
	}
	return rec
}

func (c *csvWriter) host(result.Host) error { return nil }

func (c *csvWriter) end(result.Summary) error { return nil }

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
