package merge

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// The records of the files, turned back into the result model that the
// writers take. Both readings go through here: the first checks each
// record and keeps its key, the second keeps the result.

func parseHost(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("host %s is not an IP address", quote(s))
	}
	return a.Unmap(), nil
}

func parseProto(p ports.Protocol) error {
	if p != ports.TCP && p != ports.UDP {
		return fmt.Errorf("protocol %v: want tcp or udp", p)
	}
	return nil
}

func durationMs(ms float64) time.Duration {
	if ms <= 0 || ms > 1e12 {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// portOf turns a port record (a jsonl port line, a port of a json host)
// into the model; the host's address stands in when the record names
// none (json ports may leave it to their host).
func portOf(rec output.PortRecord, host netip.Addr) (result.Port, error) {
	a := host
	if rec.Host != "" || !host.IsValid() {
		var err error
		if a, err = parseHost(rec.Host); err != nil {
			return result.Port{}, err
		}
	}
	if rec.Port == 0 {
		return result.Port{}, errors.New("port 0")
	}
	if err := parseProto(rec.Protocol); err != nil {
		return result.Port{}, err
	}
	from, err := nmapxml.ParseReasonIP(rec.ReasonIP)
	if err != nil {
		return result.Port{}, err
	}
	p := result.Port{Host: a, Hostname: rec.Hostname, Port: ports.Port{Number: rec.Port, Proto: rec.Protocol},
		State: rec.State, Reason: rec.Reason, TTL: rec.TTL, ReasonIP: from, RTT: durationMs(rec.RTTms), Time: timeOf(rec.Time), Source: rec.Source,
		Evidence: rec.Evidence, Detected: rec.Detected.Service()}
	if rec.Service != "" {
		p.Service = &services.Entry{Port: p.Port, Name: rec.Service, Description: rec.Description,
			DescriptionEn: rec.DescriptionEn, Source: rec.ServiceSource}
	}
	return p, nil
}

// countsOf reads a host record's counts by state name; a name this
// version does not know counts as Unknown, a negative count as none.
func countsOf(m map[string]int) map[result.State]int {
	if m == nil {
		return nil
	}
	out := make(map[result.State]int, len(m))
	for name, n := range m {
		s, _ := result.ParseState(name)
		out[s] += max(n, 0)
	}
	return out
}

// hostOf turns a host record (a jsonl host line, a json host) into the
// model. Its latency stands for the round trip time: the writers give
// it back as they wrote it when no listed port has one.
func hostOf(rec output.HostRecord) (result.Host, error) {
	a, err := parseHost(rec.Host)
	if err != nil {
		return result.Host{}, err
	}
	from, err := nmapxml.ParseReasonIP(rec.ReasonIP)
	if err != nil {
		return result.Host{}, err
	}
	return result.Host{Addr: a, Hostname: rec.Hostname, Up: rec.Up, Reason: rec.Reason, TTL: rec.TTL, ReasonIP: from, Probes: max(rec.Probes, 0),
		Silent: max(rec.Silent, 0), Counts: countsOf(rec.Counts), Start: timeOf(rec.Start), End: timeOf(rec.End),
		Source: rec.Source, Index: rec.Index, RTT: durationMs(rec.LatencyMs), Incomplete: rec.Incomplete,
		Tarpit: rec.Tarpit, CutShort: rec.CutShort, Unscanned: max(rec.Unscanned, 0)}, nil
}

// xmlAddr is the IP address of an XML host and its name: the one the
// user gave, else the first.
func xmlAddr(x *nmapxml.Host) (netip.Addr, string, error) {
	addr := x.IPAddr()
	if addr == "" {
		return netip.Addr{}, "", errors.New("no IPv4 or IPv6 address")
	}
	a, err := parseHost(addr)
	if err != nil {
		return netip.Addr{}, "", err
	}
	name := ""
	if x.Hostnames != nil {
		for _, n := range x.Hostnames.Hostname {
			if n.Type == "user" || name == "" {
				name = n.Name
			}
		}
	}
	return a, name, nil
}

// unixTime reads Unix seconds; zero when s is empty or no number.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func micros(s string) time.Duration {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Microsecond
}

// xmlHost turns an XML host (portscan's or nmap's) into the model.
// What portscan's writer says in the host's comment (incomplete,
// tarpit, cut short) is read back; label names the ports the file
// names by the catalog's entry of that name, with its descriptions.
func xmlHost(x *nmapxml.Host, label services.Labeler) (result.Host, []result.Port, error) {
	a, name, err := xmlAddr(x)
	if err != nil {
		return result.Host{}, nil, err
	}
	ttl, err := x.Status.TTL()
	if err != nil {
		return result.Host{}, nil, fmt.Errorf("status: %w", err)
	}
	from, err := x.Status.IP() // portscan's; nmap's DTD has none on <status>
	if err != nil {
		return result.Host{}, nil, fmt.Errorf("status: %w", err)
	}
	h := result.Host{Addr: a, Hostname: name, Up: x.Status.State == "up", Reason: x.Status.Reason, TTL: ttl, ReasonIP: from,
		Start: unixTime(x.StartTime), End: unixTime(x.EndTime), Incomplete: x.Status.State == "unknown"}
	if t := x.Times; t != nil {
		h.RTT, h.RTTVar, h.Timeout = micros(t.SRTT), micros(t.RTTVar), micros(t.To)
	}
	readNote(&h, x.Comment)
	if x.Ports == nil {
		return h, nil, nil
	}
	h.Counts = make(map[result.State]int)
	for _, ex := range x.Ports.Extra {
		n, err := strconv.Atoi(ex.Count)
		if err != nil || n < 0 {
			return result.Host{}, nil, fmt.Errorf("extraports count %s is no number", quote(ex.Count))
		}
		s, _ := result.ParseState(ex.State)
		h.Counts[s] += n
	}
	var list []result.Port
	for _, xp := range x.Ports.Port {
		n, err := strconv.ParseUint(xp.PortID, 10, 16)
		if err != nil || n == 0 {
			return result.Host{}, nil, fmt.Errorf("invalid portid %s", quote(xp.PortID))
		}
		proto, err := ports.ParseProtocol(xp.Protocol)
		if err != nil || proto == ports.DDP {
			continue // sctp, ip: not portscan's
		}
		st, err := result.ParseState(xp.State.State)
		if err != nil {
			st = result.Unknown // nmap's unfiltered, closed|filtered
		}
		ttl, err := xp.State.TTL()
		if err != nil {
			return result.Host{}, nil, fmt.Errorf("port %s: %w", quote(xp.PortID), err)
		}
		from, err := xp.State.IP()
		if err != nil {
			return result.Host{}, nil, fmt.Errorf("port %s: %w", quote(xp.PortID), err)
		}
		h.Counts[st]++
		p := result.Port{Host: a, Hostname: name, Port: ports.Port{Number: uint16(n), Proto: proto}, State: st, Reason: xp.State.Reason,
			TTL: ttl, ReasonIP: from, Source: h.Source}
		if s := xp.Service; s != nil && s.Name != "" {
			p.Service = xmlLabel(label, p.Port, s.Name, s.Method == "probed")
			if s.Method == "probed" {
				conf, _ := strconv.Atoi(s.Conf)
				p.Detected = &result.Service{Name: s.Name, Tunnel: s.Tunnel, Product: s.Product, Version: s.Version, Info: s.ExtraInfo,
					CPE: s.CPE, Method: result.MethodProbe, Confidence: conf}
			}
		}
		list = append(list, p)
	}
	return h, list, nil
}

// xmlLabel is the catalog entry of an XML port. A table lookup's name
// is the file's, described by the catalog when it gives the port that
// name; probing's name is what answered, so the port keeps the
// catalog's own label, as a scan gives it.
func xmlLabel(label services.Labeler, p ports.Port, name string, probed bool) *services.Entry {
	var e *services.Entry
	if label != nil {
		e = label(p)
	}
	switch {
	case probed:
		return e
	case e != nil && (e.Is(name)):
		return e
	}
	return &services.Entry{Port: p, Name: name}
}

// readNote reads back the notes portscan's XML writer puts in a host's
// comment attribute: "incomplete: ...", "tarpit: ...", "cut short at N
// open ports, M ports not scanned", joined by "; ".
func readNote(h *result.Host, comment string) {
	for note := range strings.SplitSeq(comment, "; ") {
		switch {
		case strings.HasPrefix(note, "incomplete:"):
			h.Incomplete = true
		case strings.HasPrefix(note, "tarpit:"):
			h.Tarpit = true
		case strings.HasPrefix(note, "cut short at "):
			h.CutShort = true
			if _, rest, ok := strings.Cut(note, ", "); ok {
				if n, err := strconv.Atoi(strings.Fields(rest + " x")[0]); err == nil && n > 0 {
					h.Unscanned = n
				}
			}
		}
	}
}
