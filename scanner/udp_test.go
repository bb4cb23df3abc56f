package scanner

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
)

// udpEcho answers every datagram on 127.0.0.1 with itself.
func udpEcho(t testing.TB) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	}()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// udpSilent reads and never answers.
func udpSilent(t testing.TB) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

func TestUDPLoopback(t *testing.T) {
	echo, silent := udpEcho(t), udpSilent(t)
	cfg := Config{
		Ports:             portSet(t, "U:"+strconv.Itoa(int(echo))+","+strconv.Itoa(int(silent))+",7,9"),
		SkipDiscovery:     true,
		InitialRTTTimeout: time.Second,
		MaxRTTTimeout:     time.Second,
	}
	res, hosts, _ := collect(t, cfg, addrs("127.0.0.1"))
	want := map[uint16]string{
		echo:   "open udp-response",
		silent: "open|filtered no-response",
		7:      "closed port-unreach", // nothing listens on echo or discard here
		9:      "closed port-unreach",
	}
	for port, w := range want {
		r := res["127.0.0.1:"+strconv.Itoa(int(port))]
		if got := r.State.String() + " " + r.Reason; got != w || r.Port.Proto != ports.UDP {
			t.Errorf("%d/udp: %q (%v), want %q", port, got, r.Port, w)
		}
	}
	if !hosts[0].Up {
		t.Errorf("host not up: %+v", hosts[0])
	}
}

func TestUDPDialProber(t *testing.T) {
	echo, silent := udpEcho(t), udpSilent(t)
	var d net.Dialer
	cfg := Config{
		Ports:             portSet(t, "U:"+strconv.Itoa(int(echo))+","+strconv.Itoa(int(silent))+",9"),
		SkipDiscovery:     true,
		Dial:              d.DialContext,
		InitialRTTTimeout: time.Second,
		MaxRTTTimeout:     time.Second,
	}
	res, _, _ := collect(t, cfg, addrs("127.0.0.1"))
	for port, w := range map[uint16]result.State{echo: result.Open, silent: result.OpenFiltered, 9: result.Closed} {
		if r := res["127.0.0.1:"+strconv.Itoa(int(port))]; r.State != w {
			t.Errorf("%d/udp: %v %s, want %v", port, r.State, r.Reason, w)
		}
	}
}
