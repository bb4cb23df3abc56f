package output_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/output"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// TestXMLRoundTrip writes every golden scenario as XML and reads it back
// with baseline's reader: the hosts and the ports the XML lists must come
// back as they went in, with the run's start, coverage and end.
func TestXMLRoundTrip(t *testing.T) {
	for _, g := range output.Goldens() {
		t.Run(g.Name, func(t *testing.T) {
			got, err := baseline.Read(g.Name+".xml", bytes.NewReader(g.Render(t, "xml")), baseline.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := listed(g)
			if len(want.Hosts()) == 0 {
				t.Fatal("the scenario lists no host: nothing to compare")
			}
			for _, h := range got.Hosts() {
				if len(h.Counts) == 0 {
					h.Counts = nil // no <ports>, or one without ports
				}
			}
			if !reflect.DeepEqual(got.Hosts(), want.Hosts()) {
				t.Errorf("hosts read back:\n%s\nwant:\n%s", dump(got), dump(want))
			}
			if !got.Start.Equal(g.Info.Start) || got.Interrupted != g.Summary.Interrupted {
				t.Errorf("start %v interrupted %v, want %v %v", got.Start, got.Interrupted, g.Info.Start, g.Summary.Interrupted)
			}
			if g.Info.ScanType == "pcap" {
				if got.Protocols != nil || got.Scanned != nil {
					t.Errorf("a capture read back with coverage %v %v", got.Protocols, got.Scanned)
				}
				return
			}
			if !slices.Equal(got.Protocols, g.Info.Protocols) || got.Scanned == nil {
				t.Fatalf("protocols %v scanned %v, want %v %s", got.Protocols, got.Scanned, g.Info.Protocols, g.Info.PortsSpec)
			}
			for _, p := range g.Info.Protocols {
				if s := got.Scanned.Spec(p); s != g.Info.PortsSpec {
					t.Errorf("%v ports %q, want %q", p, s, g.Info.PortsSpec)
				}
			}
		})
	}
}

// listed is the run the XML of g should give: the hosts it lists and
// their ports in a shown state, less the states folded into counts
// (more than the collapse limit ports on a host, open and the states
// named in ShowAll excepted), and the counts of every state, listed or
// not.
func listed(g output.Golden) *baseline.Run {
	byHost := map[netip.Addr][]result.Port{}
	var order []netip.Addr
	for _, p := range g.Ports {
		if _, ok := byHost[p.Host]; !ok {
			order = append(order, p.Host)
		}
		byHost[p.Host] = append(byHost[p.Host], p)
	}
	run := baseline.NewRun("want")
	done := map[netip.Addr]bool{}
	for _, h := range g.Hosts {
		done[h.Addr] = true
		if list := shown(g.Options, byHost[h.Addr]); h.Up || g.Options.ShowDown || len(list) > 0 {
			var c map[result.State]int
			if h.Up || len(list) > 0 { // the XML has the host's ports
				c = counts(h.Counts, byHost[h.Addr])
			}
			run.AddHost(result.Host{Addr: h.Addr, Hostname: h.Hostname, MAC: h.MAC, Vendor: h.Vendor, Up: h.Up, Reason: h.Reason, Counts: c})
			addPorts(run, list)
		}
	}
	// Hosts still in flight at the end are written as incomplete: up if
	// a port answered, their state unknown otherwise.
	for _, a := range order {
		if done[a] {
			continue
		}
		all := byHost[a]
		answered := slices.ContainsFunc(all, func(p result.Port) bool { return p.State == result.Open || p.State == result.Closed })
		if list := shown(g.Options, all); answered || g.Options.ShowDown || len(list) > 0 {
			var c map[result.State]int
			if answered || len(list) > 0 {
				c = counts(nil, all)
			}
			run.AddHost(result.Host{Addr: a, Hostname: all[0].Hostname, Up: answered, Counts: c})
			addPorts(run, list)
		}
	}
	return run
}

// counts are a host's ports by state as its XML counts them: those
// reported, or the engine's counts where they are more; nil for none.
func counts(engine map[result.State]int, all []result.Port) map[result.State]int {
	out := map[result.State]int{}
	for _, p := range all {
		out[p.State]++
	}
	for s, n := range engine {
		out[s] = max(out[s], n)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// addPorts adds the ports as the XML lists them: a service detection
// named is the <service> name, as nmap's -sV writes it, with what the
// element carries of the detection.
func addPorts(run *baseline.Run, list []result.Port) {
	for _, p := range list {
		if d := p.Detected; d != nil && d.Name != "" {
			p.Service = &services.Entry{Name: d.Name, Port: p.Port}
			// What <service> carries of it.
			p.Detected = &result.Service{Name: d.Name, Tunnel: d.Tunnel, Product: d.Product, Version: d.Version,
				Info: d.Info, CPE: d.CPE, Method: result.MethodProbe, Confidence: d.Confidence}
		} else {
			p.Detected = nil
		}
		p.Evidence = nil // the format has no place for it
		run.AddPort(p)
	}
}

// shown returns the ports of one host that are listed one by one.
func shown(opt output.Options, all []result.Port) []result.Port {
	byState := map[result.State]int{}
	var list []result.Port
	for _, p := range all {
		if opt.Shows(p.State) {
			byState[p.State]++
			list = append(list, p)
		}
	}
	return slices.DeleteFunc(list, func(p result.Port) bool { return opt.Folds(p.State, byState[p.State]) })
}

func dump(r *baseline.Run) string {
	var b bytes.Buffer
	for _, h := range r.Hosts() {
		b.WriteString(h.Addr.String() + " " + h.Hostname)
		if h.Up {
			b.WriteString(" up ")
		} else {
			b.WriteString(" down ")
		}
		b.WriteString(h.Reason + fmt.Sprint(" ", h.Counts) + ":")
		keys := make([]ports.Port, 0, len(h.Ports))
		for p := range h.Ports {
			keys = append(keys, p)
		}
		slices.SortFunc(keys, func(a, b ports.Port) int { return int(a.Number) - int(b.Number) })
		for _, p := range keys {
			st := h.Ports[p]
			b.WriteString(" " + p.String() + "=" + st.State.String() + "/" + st.Reason + "/" + st.Service)
		}
		b.WriteString("\n")
	}
	return b.String()
}
