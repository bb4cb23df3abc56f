package scan

import (
	"reflect"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
)

// TestSettingCoversEveryField checks that each Field names a field of its
// own, and that every field of Options but Targets, Always and Given is a
// setting: a field added without its Field would be missed by Override.
func TestSettingCoversEveryField(t *testing.T) {
	var o Options
	base := reflect.ValueOf(&o).Elem()
	seen := map[uintptr]Field{}
	for f := Field(1); f < fieldEnd; f <<= 1 {
		p := reflect.ValueOf(o.Setting(f))
		off := p.Pointer() - base.Addr().Pointer()
		if prev, dup := seen[off]; dup {
			t.Errorf("settings %#x and %#x share a field", prev, f)
		}
		seen[off] = f
	}
	typ := base.Type()
	for i := range typ.NumField() {
		sf := typ.Field(i)
		switch sf.Name {
		case "Targets", "Always", "Given":
			continue
		}
		if _, ok := seen[sf.Offset]; !ok {
			t.Errorf("field %s has no Field", sf.Name)
		}
	}
}

func TestSettingPanicsOnNonSetting(t *testing.T) {
	for _, f := range []Field{0, Ports | Rate, fieldEnd} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Setting(%#x) did not panic", f)
				}
			}()
			new(Options).Setting(f)
		}()
	}
}

// TestOverride lays a policy over defaults and flags over the policy,
// as an audit does: each setting takes the strongest value given.
func TestOverride(t *testing.T) {
	defaults := Options{Retries: 1, MaxRTTTimeout: 1250 * time.Millisecond, Timing: -1, Targets: []string{"10.0.0.1"}}
	flags := defaults
	flags.Retries, flags.UDP = 3, false
	flags.Given = Retries | UDP
	policy := Options{Ports: "22,80", Retries: 5, UDP: true, Rate: 10, Always: new(ports.Set), Targets: []string{"ignored"},
		Given: Ports | Retries | UDP | Rate}

	o := flags
	o.Override(policy)
	o.Override(flags)
	want := Options{Ports: "22,80", Retries: 3, UDP: false, Rate: 10, MaxRTTTimeout: 1250 * time.Millisecond, Timing: -1,
		Targets: []string{"10.0.0.1"}, Given: Ports | Retries | UDP | Rate}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got  %+v\nwant %+v", o, want)
	}
}

// TestOverrideAlternatives checks that --top-ports over a policy's ports
// replaces them, and that ports over top ports replace those.
func TestOverrideAlternatives(t *testing.T) {
	flags := Options{TopPorts: 100, Given: TopPorts}
	policy := Options{Ports: "22", Rate: 5, Given: Ports | Rate}
	o := flags
	o.Override(policy)
	o.Override(flags)
	if want := (Options{TopPorts: 100, Rate: 5, Given: TopPorts | Rate}); !reflect.DeepEqual(o, want) {
		t.Errorf("top ports over ports: %+v, want %+v", o, want)
	}
	o.Override(Options{Ports: "80", Given: Ports})
	if want := (Options{Ports: "80", Rate: 5, Given: Ports | Rate}); !reflect.DeepEqual(o, want) {
		t.Errorf("ports over top ports: %+v, want %+v", o, want)
	}
	// Both given at once: both kept, for the command to refuse.
	o.Override(Options{Ports: "1", TopPorts: 3, Given: Ports | TopPorts})
	if o.Ports != "1" || o.TopPorts != 3 || !o.Given.Has(Ports|TopPorts) {
		t.Errorf("both: %+v", o)
	}
}

func TestApplyTiming(t *testing.T) {
	defaults := Options{Rate: 100, Retries: 1, InitialRTTTimeout: time.Second, MinRTTTimeout: 100 * time.Millisecond, MaxRTTTimeout: 1250 * time.Millisecond}
	tests := []struct {
		name   string
		timing int
		given  Field // besides Timing
		check  func(o Options) bool
	}{
		{"T2", 2, 0, func(o Options) bool { return o.Rate == 2.5 && o.Concurrency == 1 && o.MaxRTTTimeout == 10*time.Second }},
		{"T0", 0, 0, func(o Options) bool { return o.Rate == 1.0/300 && o.Concurrency == 1 }},
		{"T2 rate given", 2, Rate, func(o Options) bool { return o.Rate == 100 && o.Concurrency == 1 }},
		{"T3", 3, 0, func(o Options) bool { return o.MaxRTTTimeout == 10*time.Second && o.Retries == 2 }},
		{"T5", 5, 0, func(o Options) bool {
			return o.MaxRTTTimeout == 300*time.Millisecond && o.MinRTTTimeout == 50*time.Millisecond && o.InitialRTTTimeout == 250*time.Millisecond
		}},
		{"T5 max given", 5, MaxRTTTimeout, func(o Options) bool {
			return o.MaxRTTTimeout == 1250*time.Millisecond && o.MinRTTTimeout == 50*time.Millisecond
		}},
		{"T4", 4, 0, func(o Options) bool { return reflect.DeepEqual(o, withTiming(defaults, 4, 0)) }},
		{"none", -1, 0, func(o Options) bool { return reflect.DeepEqual(o, withTiming(defaults, -1, 0)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := withTiming(defaults, tt.timing, tt.given)
			if err := o.ApplyTiming(); err != nil || !tt.check(o) {
				t.Errorf("-T%d with %#x given: %+v, %v", tt.timing, tt.given, o, err)
			}
		})
	}
	t.Run("not given", func(t *testing.T) {
		o := defaults // Timing 0 (T0) but not given: nothing applies
		if err := o.ApplyTiming(); err != nil || !reflect.DeepEqual(o, defaults) {
			t.Errorf("%+v, %v", o, err)
		}
	})
	for _, bad := range []int{6, -2} {
		o := withTiming(defaults, bad, 0)
		if err := o.ApplyTiming(); err == nil || err.Error() != "invalid timing template "+map[int]string{6: "6", -2: "-2"}[bad]+": want 0 to 5 (-T0 to -T5)" {
			t.Errorf("-T%d: %v", bad, err)
		}
	}
}

func withTiming(o Options, timing int, given Field) Options {
	o.Timing, o.Given = timing, given|Timing
	return o
}

func TestProtocols(t *testing.T) {
	for _, c := range []struct {
		tcp, udp bool
		want     []ports.Protocol
	}{
		{false, false, []ports.Protocol{ports.TCP}},
		{true, false, []ports.Protocol{ports.TCP}},
		{false, true, []ports.Protocol{ports.UDP}},
		{true, true, []ports.Protocol{ports.TCP, ports.UDP}},
	} {
		o := Options{TCP: c.tcp, UDP: c.udp}
		if got := o.Protocols(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("TCP %v UDP %v: %v, want %v", c.tcp, c.udp, got, c.want)
		}
	}
}
