package baseline

import (
	"bytes"
	"strings"
	"testing"

	"net/netip"

	gold "github.com/portscan/portscan/internal/golden"
	"github.com/portscan/portscan/internal/htmlpage/pagetest"
	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

// TestDiffHTML renders the detection diff as a page: sections for what
// opened, closed and changed, and the hostile strings of the runs as
// text.
func TestDiffHTML(t *testing.T) {
	old, err := ReadFile("testdata/detect-before.jsonl", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ReadFile("testdata/detect-after.jsonl", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A port opened and one closed beside what detection found changed;
	// a host name with hostile bytes.
	h := netip.MustParseAddr("198.18.0.2")
	cur.AddPort(result.Port{Host: h, Hostname: "evil\u202e<b>", Port: ports.Port{Number: 8080, Proto: ports.TCP}, State: result.Open, Service: &services.Entry{Name: "http-alt"}})
	old.AddPort(result.Port{Host: h, Port: ports.Port{Number: 25, Proto: ports.TCP}, State: result.Open, Service: &services.Entry{Name: "smtp"}})
	d := Compare(old, cur, CompareOptions{Labels: true})
	var b bytes.Buffer
	if err := d.WriteHTML(&b, "0.1.0"); err != nil {
		t.Fatal(err)
	}
	text := pagetest.Check(t, b.Bytes())
	gold.Check(t, "testdata/golden/detect-diff.html", b.Bytes())
	for _, id := range []string{`id="opened"`, `id="closed"`, `id="changed"`} {
		if !strings.Contains(b.String(), id) {
			t.Errorf("page lacks the section %s", id)
		}
	}
	if !strings.Contains(text, `evil\u202e<b> (198.18.0.2)`) {
		t.Errorf("the host's name does not show escaped:\n%s", text)
	}
	if !strings.Contains(text, "differences") {
		t.Errorf("no summary:\n%s", text)
	}
	var empty bytes.Buffer
	if err := Compare(old, old, CompareOptions{}).WriteHTML(&empty, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pagetest.Check(t, empty.Bytes()), "No differences.") {
		t.Error("an empty diff does not say so")
	}
}
