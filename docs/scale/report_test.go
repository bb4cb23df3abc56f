package scale

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// report is what the tests compare of a run: for each host found up,
// the state of each port listed open (or open|filtered) and how many
// ports were in each state; and how many hosts were found down. It is
// read here from jsonl and XML with readers of the tests' own, so that a
// bug shared by portscan's writers and readers cannot hide.
type report struct {
	up   map[string]hostReport
	down int
}

type hostReport struct {
	open   map[string]string // "22/tcp": "open"
	counts map[string]int    // state: ports
}

// scanLine is the part of a jsonl "scan" line the tests check.
type scanLine struct {
	Seed        uint64 `json:"seed"`
	Fingerprint string `json:"fingerprint"`
	Shard       *struct {
		Index int `json:"index"`
		Count int `json:"count"`
	} `json:"shard"`
}

func listed(state string) bool { return state == "open" || state == "open|filtered" }

// scanLines returns the scan lines of a jsonl file: one per run that
// wrote to it (a resumed run appends its own).
func scanLines(path string) ([]scanLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var scans []scanLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var rec struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if rec.Type != "scan" {
			continue
		}
		var s scanLine
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		scans = append(scans, s)
	}
	return scans, sc.Err()
}

// stateDone reads a --resume state file and says whether it is marked
// done, as a finished scan marks it.
func stateDone(t testing.TB, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the state: %v", err)
	}
	var st struct {
		Format string `json:"format"`
		Done   bool   `json:"done"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Format != "portscan-resume" {
		t.Fatalf("%s: not a portscan-resume state (%v)", path, err)
	}
	return st.Done
}

// readJSONL reads a jsonl result file: its scan lines and its report. A
// host with more than one host line is an error: a merge joins a host's
// shares into one.
func readJSONL(path string) (report, []scanLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return report{}, nil, err
	}
	defer f.Close()
	rep := report{up: map[string]hostReport{}}
	var scans []scanLine
	type portLine struct{ host, port, state string }
	var ports []portLine
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var rec struct {
			Type     string         `json:"type"`
			Host     string         `json:"host"`
			Port     int            `json:"port"`
			Protocol string         `json:"protocol"`
			State    string         `json:"state"`
			Status   string         `json:"status"`
			Counts   map[string]int `json:"counts"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return rep, nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		switch rec.Type {
		case "scan":
			var s scanLine
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				return rep, nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			scans = append(scans, s)
		case "port":
			ports = append(ports, portLine{rec.Host, fmt.Sprintf("%d/%s", rec.Port, rec.Protocol), rec.State})
		case "host":
			if seen[rec.Host] {
				return rep, nil, fmt.Errorf("%s:%d: a second host line for %s", path, n, rec.Host)
			}
			seen[rec.Host] = true
			switch rec.Status {
			case "up":
				rep.up[rec.Host] = hostReport{open: map[string]string{}, counts: rec.Counts}
			case "down":
				rep.down++
			default:
				return rep, nil, fmt.Errorf("%s:%d: host %s is %q, want up or down", path, n, rec.Host, rec.Status)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rep, nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, p := range ports {
		h, ok := rep.up[p.host]
		if !ok {
			return rep, nil, fmt.Errorf("%s: port %s of %s, which has no host line up", path, p.port, p.host)
		}
		if listed(p.state) {
			h.open[p.port] = p.state
		}
	}
	return rep, scans, nil
}

// readXML reads an nmap XML result file's report.
func readXML(path string) (report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return report{}, err
	}
	var run struct {
		Hosts []struct {
			Status struct {
				State string `xml:"state,attr"`
			} `xml:"status"`
			Address []struct {
				Addr string `xml:"addr,attr"`
				Type string `xml:"addrtype,attr"`
			} `xml:"address"`
			Extra []struct {
				State string `xml:"state,attr"`
				Count int    `xml:"count,attr"`
			} `xml:"ports>extraports"`
			Ports []struct {
				Protocol string `xml:"protocol,attr"`
				PortID   string `xml:"portid,attr"`
				State    struct {
					State string `xml:"state,attr"`
				} `xml:"state"`
			} `xml:"ports>port"`
		} `xml:"host"`
		RunStats *struct {
			Hosts struct {
				Down int `xml:"down,attr"`
			} `xml:"hosts"`
		} `xml:"runstats"`
	}
	if err := xml.Unmarshal(data, &run); err != nil {
		return report{}, fmt.Errorf("%s: %v", path, err)
	}
	if run.RunStats == nil {
		return report{}, fmt.Errorf("%s: no <runstats>: not a whole document", path)
	}
	rep := report{up: map[string]hostReport{}, down: run.RunStats.Hosts.Down}
	for _, h := range run.Hosts {
		addr := ""
		for _, a := range h.Address {
			if a.Type == "ipv4" || a.Type == "ipv6" {
				addr = a.Addr
			}
		}
		if addr == "" {
			return rep, fmt.Errorf("%s: a host without an IP address", path)
		}
		if h.Status.State != "up" {
			continue // counted in runstats
		}
		if _, dup := rep.up[addr]; dup {
			return rep, fmt.Errorf("%s: host %s listed twice", path, addr)
		}
		hr := hostReport{open: map[string]string{}, counts: map[string]int{}}
		for _, e := range h.Extra {
			hr.counts[e.State] += e.Count
		}
		for _, p := range h.Ports {
			hr.counts[p.State.State]++
			if listed(p.State.State) {
				hr.open[p.PortID+"/"+p.Protocol] = p.State.State
			}
		}
		rep.up[addr] = hr
	}
	return rep, nil
}

// readReport reads a jsonl or XML file, by its name.
func readReport(t testing.TB, path string) report {
	t.Helper()
	var rep report
	var err error
	switch {
	case strings.HasSuffix(path, ".jsonl"):
		rep, _, err = readJSONL(path)
	case strings.HasSuffix(path, ".xml"):
		rep, err = readXML(path)
	default:
		err = fmt.Errorf("%s: which format?", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// diff returns how got differs from want, a line each, or "".
func (want report) diff(got report) string {
	var b strings.Builder
	if got.down != want.down {
		fmt.Fprintf(&b, "hosts down: %d, want %d\n", got.down, want.down)
	}
	hosts := slices.Sorted(maps.Keys(want.up))
	for h := range got.up {
		if _, ok := want.up[h]; !ok {
			hosts = append(hosts, h)
		}
	}
	for _, h := range hosts {
		w, inWant := want.up[h]
		g, inGot := got.up[h]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s: not up, want up\n", h)
			continue
		case !inWant:
			fmt.Fprintf(&b, "%s: up, want not up\n", h)
			continue
		}
		if !maps.Equal(g.open, w.open) {
			fmt.Fprintf(&b, "%s: listed ports %v, want %v\n", h, g.open, w.open)
		}
		if !maps.Equal(g.counts, w.counts) {
			fmt.Fprintf(&b, "%s: ports by state %v, want %v\n", h, g.counts, w.counts)
		}
	}
	return b.String()
}

// checkLabReport checks that a report of the lab's scan on 1-1024/tcp
// says what the lab holds, so that a comparison of two wrong reports
// cannot pass. A privileged scan (root: raw discovery by ARP) finds
// 198.18.0.3, which drops everything, up with every port filtered; an
// unprivileged one finds it down.
func checkLabReport(t testing.TB, rep report, privileged bool) {
	t.Helper()
	want := report{down: 1, up: map[string]hostReport{
		"198.18.0.1": {open: map[string]string{"22/tcp": "open", "80/tcp": "open"}, counts: map[string]int{"open": 2, "closed": 1022}},
		"198.18.0.2": {open: map[string]string{"25/tcp": "open", "443/tcp": "open"}, counts: map[string]int{"open": 2, "closed": 1022}},
		"198.18.0.4": {open: map[string]string{"22/tcp": "open"}, counts: map[string]int{"open": 1, "closed": 99, "filtered": 924}},
	}}
	for i := 5; i <= labHosts; i++ {
		want.up["198.18.0."+strconv.Itoa(i)] = hostReport{open: map[string]string{}, counts: map[string]int{"closed": 1024}}
	}
	if privileged {
		want.down = 0
		want.up["198.18.0.3"] = hostReport{open: map[string]string{}, counts: map[string]int{"filtered": 1024}}
	}
	if d := want.diff(rep); d != "" {
		t.Errorf("the report does not say what the lab holds:\n%s", d)
	}
}
