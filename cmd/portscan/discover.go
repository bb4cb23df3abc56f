package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/scanner"
)

// checkDiscoverOnly refuses with -sn the flags of a port scan, which it
// would ignore.
func checkDiscoverOnly(f *scanFlags) error {
	if !f.discoverOnly {
		return nil
	}
	for _, s := range []struct {
		field scan.Field
		flag  string
	}{
		{scan.Ports, "--ports (-p)"}, {scan.TopPorts, "--top-ports (-F)"}, {scan.ExcludePorts, "--exclude-ports"},
		{scan.UDP, "--udp (-sU)"}, {scan.TCP, "--tcp (-sT)"}, {scan.Syn, "--syn (-sS)"}, {scan.SkipDiscovery, "--skip-discovery (-Pn)"},
	} {
		if f.opts.Given.Has(s.field) {
			return fmt.Errorf("-sn (--discover-only) probes no ports: drop %s", s.flag)
		}
	}
	if f.given("max-open") {
		return errors.New("-sn (--discover-only) probes no ports: drop --max-open")
	}
	if f.format == "csv" {
		return errors.New("csv output lists ports, and -sn (--discover-only) finds none: use --format text, jsonl, json, xml or grepable")
	}
	return nil
}

// checkStderrFlags refuses -q with the flags that ask for more on
// stderr, and a --stats-every that is no interval.
func checkStderrFlags(g *globals, f *scanFlags) error {
	switch {
	case g.quiet && f.verbose > 0:
		return errors.New("-q and -v exclude each other")
	case g.quiet && f.statsEvery != 0:
		return errors.New("-q and --stats-every exclude each other")
	case f.statsEvery < 0 || f.statsEvery == 0 && f.given("stats-every"):
		return fmt.Errorf("invalid --stats-every %v: want a duration above 0, such as 10s", f.statsEvery)
	}
	return nil
}

// discoverOnly makes the job find which hosts are up and scan no port;
// its outputs list every host, with the reason it is up or down.
func (j *scanJob) discoverOnly() {
	j.cfg.DiscoverOnly = true
	j.cfg.Ports = nil
	j.info.ScanType = result.ScanDiscovery
	j.info.Protocols, j.info.Ports, j.info.PortsSpec, j.info.NumPorts = nil, nil, "", 0
}

// icmpLimitNote is -v's line on a host that rate-limits its ICMP.
func icmpLimitNote(l scanner.ICMPLimit) string {
	if l.Done {
		return fmt.Sprintf("%s limited ICMP replies to about %.0f/s; its UDP probes ended at %.0f/s", l.Addr, l.ICMPRate, l.ProbeRate)
	}
	if l.ICMPRate > 0 {
		return fmt.Sprintf("%s limits ICMP replies to about %.0f/s; UDP probes slowed to %.0f/s", l.Addr, l.ICMPRate, l.ProbeRate)
	}
	return fmt.Sprintf("%s limits its ICMP replies; UDP probes slowed to %.0f/s", l.Addr, l.ProbeRate)
}

// hostTimingNote is -v's line on a host that finished.
func hostTimingNote(h result.Host) string {
	return fmt.Sprintf("%s %s (%s): %d probes in %.2f s; srtt %v, rttvar %v, timeout %v",
		h.Addr, h.Status(), h.Reason, h.Probes, h.End.Sub(h.Start).Seconds(),
		h.RTT.Round(time.Microsecond), h.RTTVar.Round(time.Microsecond), h.Timeout.Round(time.Microsecond))
}
