package baseline

import (
	"io"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// readCapture analyses a capture the way "portscan pcap" does and keeps
// the services it shows. A damaged capture is an error: what an audit
// judges must be complete.
func readCapture(name string, r io.Reader, opt ReadOptions) (*Run, error) {
	cr, err := capture.NewReader(r)
	if err != nil {
		return nil, &posError{name: name, msg: err.Error()}
	}
	an := capture.NewAnalyzer(capture.Options{Label: opt.Label})
	dec := capture.NewDecoder()
	var d capture.Decoded
	for {
		p, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &posError{name: name, msg: err.Error()}
		}
		dec.Decode(p.LinkType, p.Data, &d)
		an.Add(p.Time, &d)
	}
	run := NewRun(name)
	run.Scanner = "pcap"
	run.Start, _ = an.Span()
	// A capture shows TCP and UDP alike, and which ports is unknown.
	run.Protocols = []ports.Protocol{ports.TCP, ports.UDP}
	an.Report(result.Funcs{OnPort: run.AddPort, OnHost: run.AddHost})
	return run, nil
}
