package result

import (
	"errors"
	"testing"

	"github.com/portscan/portscan/services"
)

func TestStateNames(t *testing.T) {
	for _, tc := range []struct {
		s    State
		name string
	}{
		{Unknown, "unknown"}, {Open, "open"}, {Closed, "closed"},
		{Filtered, "filtered"}, {OpenFiltered, "open|filtered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			got, err := ParseState(tc.name)
			if err != nil || got != tc.s {
				t.Errorf("ParseState(%q) = %v, %v", tc.name, got, err)
			}
		})
	}
	if _, err := ParseState("opne"); err == nil {
		t.Error("ParseState accepted a misspelt state")
	}
	if got := State(42).String(); got != "state(42)" {
		t.Errorf("State(42) = %q", got)
	}
}

// failing fails every event from its nth on.
type failing struct {
	n, seen int
	ends    int
}

var errFull = errors.New("disk full")

func (f *failing) event() error {
	f.seen++
	if f.seen >= f.n {
		return errFull
	}
	return nil
}
func (f *failing) Begin(Info) error { return f.event() }
func (f *failing) Port(Port) error  { return f.event() }
func (f *failing) Host(Host) error  { return f.event() }
func (f *failing) End(Summary) error {
	f.ends++
	return f.event()
}

func TestTee(t *testing.T) {
	bad := &failing{n: 2}
	var ports, ends int
	good := Funcs{OnPort: func(Port) { ports++ }, OnEnd: func(Summary) { ends++ }}
	s := Tee(bad, good)
	if err := s.Begin(Info{}); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := s.Port(Port{}); !errors.Is(err, errFull) {
		t.Fatalf("Port: %v, want the failing sink's error", err)
	}
	if err := s.Port(Port{}); !errors.Is(err, errFull) {
		t.Fatalf("second Port: %v, want the error to stick", err)
	}
	if bad.seen != 2 {
		t.Errorf("a failed sink got %d events, want none after its failure", bad.seen)
	}
	s.End(Summary{})
	if ports != 2 || ends != 1 || bad.ends != 1 {
		t.Errorf("good sink saw %d ports and %d ends, failed sink %d ends; want 2, 1, 1", ports, ends, bad.ends)
	}
}

func TestPortLabel(t *testing.T) {
	https := &services.Entry{Name: "https"}
	http := &services.Entry{Name: "http", Aliases: []string{"www"}}
	tests := []struct {
		name    string
		catalog *services.Entry
		found   *Service
		want    string
	}{
		{"no detection", http, nil, ""},
		{"nothing matched", http, &Service{}, LabelUnknown},
		{"same name", http, &Service{Name: "http"}, LabelConfirmed},
		{"an alias", http, &Service{Name: "WWW"}, LabelConfirmed},
		{"another service", http, &Service{Name: "ssh"}, LabelDiffers},
		{"no catalog entry", nil, &Service{Name: "ssh"}, LabelDiffers},
		{"tls form", https, &Service{Name: "http", Tunnel: "ssl"}, LabelConfirmed},
		{"plain on a tls port", https, &Service{Name: "http"}, LabelDiffers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Port{Service: tc.catalog, Detected: tc.found}
			if got := p.Label(); got != tc.want {
				t.Errorf("Label() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsTarpit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		counts map[State]int
		want   bool
	}{
		{"every port open", map[State]int{Open: 2000}, true},
		{"nine in ten open", map[State]int{Open: 900, Filtered: 100}, true},
		{"just under nine in ten", map[State]int{Open: 899, Filtered: 101}, false},
		{"too few ports to tell", map[State]int{Open: TarpitMinOpen - 1}, false},
		{"the threshold", map[State]int{Open: TarpitMinOpen}, true},
		{"a busy server", map[State]int{Open: 150, Closed: 65385}, false},
		{"nothing", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTarpit(tc.counts); got != tc.want {
				t.Errorf("IsTarpit(%v) = %v, want %v", tc.counts, got, tc.want)
			}
		})
	}
}

func TestHostStatus(t *testing.T) {
	for _, tc := range []struct {
		h    Host
		want string
	}{
		{Host{Up: true}, "up"},
		{Host{Up: true, Incomplete: true}, "up"},
		{Host{}, "down"},
		{Host{Incomplete: true}, "unknown"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.h.Status(); got != tc.want {
				t.Errorf("%+v: Status() = %q, want %q", tc.h, got, tc.want)
			}
		})
	}
	s := Summary{HostsUp: 2, HostsDown: 3, HostsUnknown: 4}
	if s.Hosts() != 9 {
		t.Errorf("Hosts() = %d, want 9", s.Hosts())
	}
}
