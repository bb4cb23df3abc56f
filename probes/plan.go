package probes

import "github.com/portscan/portscan/ports"

// ProbesFor plans the TCP probes to send to port, in the order nmap
// sends them, for a --version-intensity of intensity (0 to 9, clamped;
// [DefaultIntensity] is nmap's default):
//
//  1. the NULL probe, which sends nothing and waits for a greeting;
//  2. the probes whose ports line (sslports, when tls says the port
//     speaks inside TLS) names port, whatever their rarity;
//  3. the other probes whose rarity is at most intensity.
//
// Each group keeps file order. Each probe's [Probe.Wait] is how long to
// wait for its reply. A port the file's Exclude directive names gets no
// probes (see [Options.AllPorts]). After a softmatch, keep only the
// probes for which [Probe.Possible] holds.
func (f *File) ProbesFor(port uint16, tls bool, intensity int) []*Probe {
	if f.Excluded(ports.TCP, port) {
		return nil
	}
	var plan []*Probe
	if f.null != nil {
		plan = append(plan, f.null)
	}
	return f.plan(plan, ports.TCP, port, tls, intensity)
}

// ProbesForUDP plans the UDP probes for port as ProbesFor does TCP's,
// without a NULL probe: a UDP service never speaks first.
func (f *File) ProbesForUDP(port uint16, intensity int) []*Probe {
	if f.Excluded(ports.UDP, port) {
		return nil
	}
	return f.plan(nil, ports.UDP, port, false, intensity)
}

func (f *File) plan(plan []*Probe, proto ports.Protocol, port uint16, tls bool, intensity int) []*Probe {
	intensity = max(0, min(9, intensity))
	named := func(p *Probe) bool {
		if tls {
			return inRanges(p.SSLPorts, port)
		}
		return inRanges(p.Ports, port)
	}
	for _, p := range f.Probes {
		if p.Protocol == proto && p != f.null && named(p) {
			plan = append(plan, p)
		}
	}
	for _, p := range f.Probes {
		if p.Protocol == proto && p != f.null && !named(p) && p.Rarity <= intensity {
			plan = append(plan, p)
		}
	}
	return plan
}
