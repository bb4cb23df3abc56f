package output

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// ScanRecord is the head of jsonl output (type "scan") and the "scan"
// object of json output.
type ScanRecord struct {
	Type      string           `json:"type,omitempty"`
	Scanner   string           `json:"scanner"`
	Version   string           `json:"version"`
	Args      []string         `json:"args"`
	Start     *time.Time       `json:"start,omitempty"`
	ScanType  string           `json:"scan_type"`
	Protocols []ports.Protocol `json:"protocols"`
	Ports     string           `json:"ports"`
	NumPorts  int              `json:"num_ports"`
	// Seed, Fingerprint and Shard tie the output to its scan's
	// definition (see result.Info); Shard is set only for a share of a
	// sharded scan.
	Seed        uint64       `json:"seed,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Shard       *ShardRecord `json:"shard,omitempty"`
}

// ShardRecord is the "shard" object of a scan record: Index counts from
// 0 (--shard-index), Count is the number of shards.
type ShardRecord struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func shardRecord(s result.Shard) *ShardRecord {
	if !s.Sharded() {
		return nil
	}
	return &ShardRecord{Index: s.Index, Count: s.Count}
}

// Result returns the shard of the record; the zero Shard for nil.
func (r *ShardRecord) Result() result.Shard {
	if r == nil {
		return result.Shard{}
	}
	return result.Shard{Index: r.Index, Count: r.Count}
}

// PortRecord is one port result: a jsonl line of type "port", an element
// of a json host's "ports", a csv row.
type PortRecord struct {
	Type          string           `json:"type,omitempty"`
	Host          string           `json:"host"`
	Hostname      string           `json:"hostname,omitempty"`
	Port          uint16           `json:"port"`
	Protocol      ports.Protocol   `json:"protocol"`
	State         result.State     `json:"state"`
	Reason        string           `json:"reason"`
	TTL           uint8            `json:"ttl,omitempty"`       // of the reply that decided State (result.Port.TTL)
	ReasonIP      string           `json:"reason_ip,omitempty"` // who sent the ICMP error that decided State, when not the target (result.Port.ReasonIP)
	Service       string           `json:"service"`
	Description   string           `json:"description"`
	DescriptionEn string           `json:"description_en"`
	ServiceSource string           `json:"service_source"`
	RTTms         float64          `json:"rtt_ms"`
	Time          *time.Time       `json:"time,omitempty"`
	Source        string           `json:"source"`
	Evidence      *result.Evidence `json:"evidence,omitempty"`
	// Detected is what service detection found (-sV, or a capture's
	// content); Label compares it with the catalog's service:
	// "confirmed", "differs" or "unknown".
	Detected *DetectedRecord `json:"detected,omitempty"`
	Label    string          `json:"label,omitempty"`
	// Shard is the --shard-index of the run that probed the port, in a
	// sharded scan.
	Shard *int `json:"shard,omitempty"`
}

// DetectedRecord is a port's "detected" object, in nmap's vocabulary.
// Every string came from the network: it is valid UTF-8, and Banner is
// escaped and truncated.
type DetectedRecord struct {
	Name       string     `json:"name"`
	Tunnel     string     `json:"tunnel"`
	Product    string     `json:"product,omitempty"`
	Version    string     `json:"version,omitempty"`
	Info       string     `json:"info,omitempty"`
	CPE        []string   `json:"cpe,omitempty"`
	Method     string     `json:"method"`
	Confidence int        `json:"confidence"`
	Banner     string     `json:"banner,omitempty"`
	TLS        *TLSRecord `json:"tls,omitempty"`
}

// TLSRecord is a detected service's "tls" object: its TLS handshake.
type TLSRecord struct {
	Version     string     `json:"version"`
	Cipher      string     `json:"cipher,omitempty"`
	ALPN        string     `json:"alpn,omitempty"`
	SNI         string     `json:"sni,omitempty"`
	Subject     string     `json:"subject,omitempty"`
	SANs        []string   `json:"sans,omitempty"`
	Issuer      string     `json:"issuer,omitempty"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
	NotAfter    *time.Time `json:"not_after,omitempty"`
	SelfSigned  bool       `json:"self_signed"`
	ChainLength int        `json:"chain_length,omitempty"`
}

// validUTF8 is s with each invalid byte sequence replaced by U+FFFD:
// what detection read off the network goes into JSON and XML so.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// DetectedRecordOf returns the record of what detection found; nil for
// nil. Its strings are made valid UTF-8.
func DetectedRecordOf(s *result.Service) *DetectedRecord { return detectedRecord(s) }

func detectedRecord(s *result.Service) *DetectedRecord {
	if s == nil {
		return nil
	}
	d := &DetectedRecord{Name: validUTF8(s.Name), Tunnel: s.Tunnel, Product: validUTF8(s.Product), Version: validUTF8(s.Version), Info: validUTF8(s.Info),
		Method: s.Method, Confidence: s.Confidence, Banner: validUTF8(s.Banner)}
	for _, c := range s.CPE {
		d.CPE = append(d.CPE, validUTF8(c))
	}
	if t := s.TLS; t != nil {
		d.TLS = &TLSRecord{Version: t.Version, Cipher: t.Cipher, ALPN: validUTF8(t.ALPN), SNI: validUTF8(t.SNI), Subject: validUTF8(t.Subject), Issuer: validUTF8(t.Issuer),
			NotBefore: timePtr(t.NotBefore), NotAfter: timePtr(t.NotAfter), SelfSigned: t.SelfSigned, ChainLength: t.ChainLength}
		for _, n := range t.SANs {
			d.TLS.SANs = append(d.TLS.SANs, validUTF8(n))
		}
	}
	return d
}

// Service turns the record back into the result model's service; nil
// for a nil record.
func (d *DetectedRecord) Service() *result.Service {
	if d == nil {
		return nil
	}
	s := &result.Service{Name: d.Name, Tunnel: d.Tunnel, Product: d.Product, Version: d.Version, Info: d.Info,
		CPE: d.CPE, Method: d.Method, Confidence: d.Confidence, Banner: d.Banner}
	if t := d.TLS; t != nil {
		s.TLS = &result.TLS{Version: t.Version, Cipher: t.Cipher, ALPN: t.ALPN, SNI: t.SNI, Subject: t.Subject, SANs: t.SANs,
			Issuer: t.Issuer, SelfSigned: t.SelfSigned, ChainLength: t.ChainLength}
		if t.NotBefore != nil {
			s.TLS.NotBefore = *t.NotBefore
		}
		if t.NotAfter != nil {
			s.TLS.NotAfter = *t.NotAfter
		}
	}
	return s
}

// HostRecord is one host's summary: a jsonl line of type "host", an
// element of json "hosts" (which adds "ports").
type HostRecord struct {
	Type       string         `json:"type,omitempty"`
	Host       string         `json:"host"`
	Hostname   string         `json:"hostname,omitempty"`
	MAC        string         `json:"mac,omitempty"`
	Vendor     string         `json:"vendor,omitempty"`
	Up         bool           `json:"up"`
	Status     string         `json:"status"`
	Reason     string         `json:"reason"`
	TTL        uint8          `json:"ttl,omitempty"`       // of the reply that gave Reason (result.Host.TTL)
	ReasonIP   string         `json:"reason_ip,omitempty"` // who sent the ICMP error that gave Reason, when not the host (result.Host.ReasonIP)
	LatencyMs  float64        `json:"latency_ms"`
	Probes     int            `json:"probes"`
	Silent     int            `json:"silent"`
	Counts     map[string]int `json:"counts"`
	Start      *time.Time     `json:"start,omitempty"`
	End        *time.Time     `json:"end,omitempty"`
	Source     string         `json:"source"`
	Incomplete bool           `json:"incomplete,omitempty"`
	Tarpit     bool           `json:"tarpit,omitempty"`
	CutShort   bool           `json:"cut_short,omitempty"`
	Unscanned  int            `json:"unscanned,omitempty"`
	// Index is the host's place in the scan's targets, from 1 (see
	// result.Host.Index); Shard the --shard-index of the run that
	// reported it, in a sharded scan.
	Index uint64 `json:"index,omitempty"`
	Shard *int   `json:"shard,omitempty"`
}

// SummaryRecord closes a run: the last jsonl line (type "summary") and
// the json "summary" object.
type SummaryRecord struct {
	Type         string     `json:"type,omitempty"`
	Start        *time.Time `json:"start,omitempty"`
	End          *time.Time `json:"end,omitempty"`
	ElapsedS     float64    `json:"elapsed_s"`
	Hosts        int        `json:"hosts"`
	HostsUp      int        `json:"hosts_up"`
	HostsDown    int        `json:"hosts_down"`
	HostsUnknown int        `json:"hosts_unknown"`
	Open         int        `json:"open"`
	Probes       int64      `json:"probes"`
	ProbesPerS   float64    `json:"probes_per_s"`
	Interrupted  bool       `json:"interrupted"`
	// Capture counts what a capture analysis read and left out (pcap
	// only): packets, skipped, flows, evicted_idle, evicted_full,
	// unreported.
	Capture *result.CaptureStats `json:"capture,omitempty"`
}

func scanRecord(info result.Info) ScanRecord {
	args := info.Args
	if args == nil {
		args = []string{}
	}
	protos := info.Protocols
	if protos == nil {
		protos = []ports.Protocol{}
	}
	return ScanRecord{
		Scanner:   "portscan",
		Version:   info.Version,
		Args:      args,
		Start:     timePtr(info.Start),
		ScanType:  info.ScanType,
		Protocols: protos,
		Ports:     info.PortsSpec,
		NumPorts:  info.NumPorts,

		Seed:        info.Seed,
		Fingerprint: info.Fingerprint,
		Shard:       shardRecord(info.Shard),
	}
}

func portRecord(r result.Port) PortRecord {
	p := PortRecord{
		Host:     r.Host.String(),
		Hostname: r.Hostname,
		Port:     r.Port.Number,
		Protocol: r.Port.Proto,
		State:    r.State,
		Reason:   r.Reason,
		TTL:      r.TTL,
		ReasonIP: addrString(r.ReasonIP),
		RTTms:    millis(r.RTT),
		Time:     timePtr(r.Time),
		Source:   sourceOf(r.Source),
		Evidence: r.Evidence,
		Detected: detectedRecord(r.Detected),
		Label:    r.Label(),
	}
	if e := r.Service; e != nil {
		p.Service = e.Name
		p.Description = e.Description
		p.DescriptionEn = e.DescriptionEn
		p.ServiceSource = e.Source
	}
	return p
}

func hostRecord(h result.Host, latency time.Duration) HostRecord {
	if latency == 0 {
		latency = h.RTT // no port answered (a discovery run): the host's own
	}
	counts := make(map[string]int, len(h.Counts))
	for s, n := range h.Counts {
		counts[s.String()] = n
	}
	return HostRecord{
		Host:      h.Addr.String(),
		Hostname:  h.Hostname,
		MAC:       h.MACString(),
		Vendor:    validUTF8(h.Vendor),
		Up:        h.Up,
		Status:    h.Status(),
		Reason:    h.Reason,
		TTL:       h.TTL,
		ReasonIP:  addrString(h.ReasonIP),
		LatencyMs: millis(latency),
		Probes:    h.Probes,
		Silent:    h.Silent,
		Counts:    counts,
		Start:     timePtr(h.Start),
		End:       timePtr(h.End),
		Source:    sourceOf(h.Source),

		Incomplete: h.Incomplete,
		Tarpit:     h.Tarpit,
		CutShort:   h.CutShort,
		Unscanned:  h.Unscanned,
		Index:      h.Index,
	}
}

// shardIndex is the "shard" of the host and port records of a run with
// info: its index, in a sharded scan only.
func shardIndex(info result.Info) *int {
	if !info.Shard.Sharded() {
		return nil
	}
	i := info.Shard.Index
	return &i
}

func summaryRecord(s result.Summary) SummaryRecord {
	return SummaryRecord{
		Start:        timePtr(s.Start),
		End:          timePtr(s.End),
		ElapsedS:     round(s.End.Sub(s.Start).Seconds(), 3),
		Hosts:        s.Hosts(),
		HostsUp:      s.HostsUp,
		HostsDown:    s.HostsDown,
		HostsUnknown: s.HostsUnknown,
		Open:         s.Open,
		Probes:       s.Probes,
		ProbesPerS:   round(s.ProbesPerSecond(), 1),
		Interrupted:  s.Interrupted,
		Capture:      s.Capture,
	}
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// addrString is a as the records write it: "" (left out) when zero.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
