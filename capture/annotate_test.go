package capture

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/services"
)

// TestAnnotationsEscape gives the packet line and the pcapng comment a
// service whose name and description, from a user's catalog, carry
// escape sequences and a line break: both show them escaped.
func TestAnnotationsEscape(t *testing.T) {
	hostile := &services.Entry{Name: "h\x1b]0;pwned\a", DescriptionEn: "d\r\n::error::x\u202e", Port: ports.Port{Number: 80, Proto: ports.TCP}}
	label := func(p ports.Port) *services.Entry {
		if p.Number == 80 {
			return hostile
		}
		return nil
	}
	d := Decoded{Kind: TCP, Src: netip.MustParseAddr("10.0.0.9"), Dst: netip.MustParseAddr("10.0.0.5"), Proto: ports.TCP,
		SrcPort: 41000, DstPort: 80, Flags: SYN}
	p := &Packet{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	line := string(AppendLine(nil, p, &d, SideDst, label))
	if want := `10.0.0.5.80(h\x1b]0;pwned\a): Flags [S]`; !strings.Contains(line, want) {
		t.Errorf("packet line %q lacks %q", line, want)
	}
	comment := Comment(&d, SideDst, label, "en")
	if want := `service h\x1b]0;pwned\a (80/tcp on 10.0.0.5): d\r\n::error::x\u202e`; comment != want {
		t.Errorf("comment %q, want %q", comment, want)
	}
}
