package baseline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/portscan/portscan/capture"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// readCapture analyses a capture the way "portscan pcap" does and keeps
// the services it shows. A damaged capture is an error, which keeps the
// capture's *capture.ReadError: what an audit judges must be complete.
func readCapture(ctx context.Context, name string, r io.Reader, opt ReadOptions) (*Run, error) {
	run := NewRun(name)
	run.Scanner = "pcap"
	// A capture shows TCP and UDP alike, and which ports is unknown.
	run.Protocols = []ports.Protocol{ports.TCP, ports.UDP}
	st, err := capture.Analyze(ctx, []capture.Source{capture.Stream(name, r)},
		capture.AnalyzeOptions{Options: capture.Options{Label: opt.Label}},
		result.Funcs{OnPort: run.AddPort, OnHost: run.AddHost})
	var se *capture.SourceError
	switch {
	case errors.As(err, &se):
		return nil, &posError{name: name, err: se.Err}
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	run.Start = st.Summary.Start
	return run, nil
}
