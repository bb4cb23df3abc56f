package merge

import (
	"bytes"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// A model scan, written by the output writers as a single run and as
// shards, the way a sharded scan writes them: each shard lists and
// counts only its own ports, and reports every host (discovery is per
// shard).

var t0 = time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

type modelHost struct {
	host  result.Host   // whole: counts of every port
	ports []result.Port // every port probed, whatever its state
}

type model struct {
	info  result.Info
	hosts []modelHost
	sum   result.Summary
}

// newModel makes a scan of n hosts of 127.1.0.0/16 (every seventh down,
// one with a name), 20 TCP ports and 5 UDP ports each.
func newModel(n int) model {
	tcp := []uint16{21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8000, 8080, 8443, 9000}
	udp := []uint16{53, 67, 123, 161, 500}
	set, _ := ports.ParseSpec("T:21-23,25,53,80,110,143,443,445,993,995,1723,3306,3389,5900,8000,8080,8443,9000,U:53,67,123,161,500", ports.SpecOptions{})
	m := model{info: result.Info{
		Args: []string{"portscan", "-sT", "-sU", "--seed", "7", "127.1.0.0/16"}, Start: t0, ScanType: "connect+udp",
		Protocols: []ports.Protocol{ports.TCP, ports.UDP}, Ports: set, PortsSpec: set.String(), NumPorts: len(tcp), Version: "0.1.0",
		Seed: 7, Fingerprint: "fp-model",
	}}
	label := services.Default().Lookup
	for i := range n {
		a := netip.AddrFrom4([4]byte{127, 1, byte(i >> 8), byte(i)})
		h := result.Host{Addr: a, Index: uint64(i + 1), Start: at(i), End: at(i + 500), Source: "scan", RTT: 40 * time.Microsecond}
		if i == 3 {
			h.Hostname = "web.lab"
		}
		if i%7 == 6 {
			h.Reason, h.Probes, h.Silent = result.ReasonNoResponse, 4, 4
			m.hosts = append(m.hosts, modelHost{host: h})
			continue
		}
		h.Up, h.Reason, h.Counts = true, result.ReasonSynAck, map[result.State]int{}
		var ps []result.Port
		add := func(num uint16, proto ports.Protocol, st result.State, reason string, k int) {
			p := result.Port{Host: a, Hostname: h.Hostname, Port: ports.Port{Number: num, Proto: proto}, State: st, Reason: reason,
				Time: at(i + 10 + k), Source: "scan"}
			if st == result.Open {
				p.RTT = time.Duration(30+k) * time.Microsecond
			}
			p.Service = label(p.Port)
			ps = append(ps, p)
			h.Counts[st]++
			h.Probes++
		}
		for k, num := range tcp {
			switch {
			case (i+k)%9 == 0 || num == 22:
				add(num, ports.TCP, result.Open, result.ReasonSynAck, k)
			case (i*k)%13 == 5:
				add(num, ports.TCP, result.Filtered, result.ReasonNoResponse, k)
			default:
				add(num, ports.TCP, result.Closed, result.ReasonConnRefused, k)
			}
		}
		for k, num := range udp {
			switch {
			case (i+k)%4 == 0:
				add(num, ports.UDP, result.Open, result.ReasonUDPResponse, 20+k)
			case (i+k)%4 == 1:
				add(num, ports.UDP, result.OpenFiltered, result.ReasonNoResponse, 20+k)
			default:
				add(num, ports.UDP, result.Closed, result.ReasonPortUnreach, 20+k)
			}
		}
		h.Probes += 2 // discovery
		m.hosts = append(m.hosts, modelHost{host: h, ports: ps})
	}
	m.sum = result.Summary{Start: t0, End: at(n + 600)}
	for _, h := range m.hosts {
		m.sum.Probes += int64(h.host.Probes)
		m.sum.Open += h.host.Counts[result.Open]
		if h.host.Up {
			m.sum.HostsUp++
		} else {
			m.sum.HostsDown++
		}
	}
	return m
}

// shardOf is the shard, of n, that probes port k of host i.
func shardOf(i, k, n int) int {
	h := fnv.New32a()
	h.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(k)})
	return int(h.Sum32() % uint32(n))
}

// shard is the part of m that shard k of n probed: the ports of each
// host it drew, counted by the host record, and every host.
func (m model) shard(k, n int) model {
	out := model{info: m.info, sum: result.Summary{Start: m.sum.Start, End: m.sum.End}}
	out.info.Shard = result.Shard{Index: k, Count: n}
	for i, mh := range m.hosts {
		h := mh.host
		h.Counts = nil
		var ps []result.Port
		if h.Up {
			h.Counts = map[result.State]int{}
			for j, p := range mh.ports {
				if shardOf(i, j, n) == k {
					ps = append(ps, p)
					h.Counts[p.State]++
				}
			}
		}
		// The probes split so that the shards' add up to the whole's.
		h.Probes = mh.host.Probes/n + b2i(k < mh.host.Probes%n)
		h.Silent = mh.host.Silent/n + b2i(k < mh.host.Silent%n)
		out.hosts = append(out.hosts, modelHost{host: h, ports: ps})
		out.sum.Probes += int64(h.Probes)
		out.sum.Open += h.Counts[result.Open]
		if h.Up {
			out.sum.HostsUp++
		} else {
			out.sum.HostsDown++
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// emit sends m to w as a scan would: hosts finishing out of order, the
// ports of two hosts in flight interleaved, each host's record after its
// ports. r shuffles; nil keeps target order.
func (m model) emit(t testing.TB, w result.Sink, r *rand.Rand) {
	t.Helper()
	order := make([]int, len(m.hosts))
	for i := range order {
		order[i] = i
	}
	if r != nil {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Begin(m.info))
	for i := 0; i < len(order); i += 2 {
		pair := order[i:min(i+2, len(order))]
		for j := 0; ; j++ {
			more := false
			for _, hi := range pair {
				if ps := m.hosts[hi].ports; j < len(ps) {
					must(w.Port(ps[j]))
					more = true
				}
			}
			if !more {
				break
			}
		}
		for _, hi := range pair {
			h := m.hosts[hi].host
			h.Seq = uint64(hi + 1)
			must(w.Host(h))
		}
	}
	must(w.End(m.sum))
}

// write writes m to path in format, with the writers' options opt.
func (m model) write(t testing.TB, path, format string, opt output.Options, r *rand.Rand) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := output.New(format, f, opt)
	if err != nil {
		t.Fatal(err)
	}
	m.emit(t, w, r)
	return path
}

// writeShards writes the n shards of m into dir, one file each, in the
// formats given in turn; it returns the paths.
func (m model) writeShards(t testing.TB, dir string, n int, formats ...string) []string {
	t.Helper()
	var paths []string
	for k := range n {
		format := formats[k%len(formats)]
		r := rand.New(rand.NewPCG(uint64(k), 1))
		paths = append(paths, m.shard(k, n).write(t, filepath.Join(dir, "shard"+string(rune('1'+k))+"."+format), format, output.Options{}, r))
	}
	return paths
}

// mergeTo merges paths into one report in format, with the writers'
// options opt.
func mergeTo(t testing.TB, format string, opt output.Options, mo Options, paths ...string) ([]byte, *Merger) {
	t.Helper()
	m, err := Open(context.Background(), paths, mo)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var buf bytes.Buffer
	w, err := output.New(format, &buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Begin(m.Info()); err != nil {
		t.Fatal(err)
	}
	sum, err := m.Run(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.End(sum); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}
