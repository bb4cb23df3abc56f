package detect

import (
	"strconv"
	"strings"

	"github.com/portscan/portscan/result"
)

// X11 (X Window System Protocol, X Consortium Standard, "Connection
// Setup"). The probe is the connection setup request, little-endian,
// protocol 11.0, with no authorization; the server answers Success (it
// lets anyone in: "open"), Failed with a reason, or Authenticate. Success
// carries the vendor and its release number.
func init() {
	Register(&Protocol{
		Name:         "x11",
		Ports:        []uint16{6000, 6001, 6002, 6003, 6004, 6005},
		Probe:        func(string) []byte { return []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0} },
		Match:        matchX11,
		MatchRequest: matchX11Request,
	})
}

func matchX11(got []byte) (result.Service, bool, bool) {
	if len(got) == 0 {
		return result.Service{}, false, true
	}
	if got[0] > 2 {
		return result.Service{}, false, false
	}
	b := octets(got)
	if len(got) < 8 {
		// Failed and Success carry the protocol version at 2: 11.0.
		if len(got) >= 3 && got[0] != 2 && got[2] != 11 {
			return result.Service{}, false, false
		}
		return result.Service{}, false, true
	}
	major, _ := b.le16(2)
	minor, _ := b.le16(4)
	extra, _ := b.le16(6) // length of what follows, in 4-byte units
	svc := result.Service{Name: "x11", Confidence: 10}
	switch got[0] {
	case 0: // Failed: reason length at 1, the reason after the 8 bytes
		if major != 11 || int(got[1]) > 4*int(extra) {
			return result.Service{}, false, false
		}
		reason, _ := b.span(8, int(got[1]))
		if reason == nil {
			reason = got[8:]
		}
		svc.Info = joinInfo("access denied", cleanBytes(reason, maxText))
	case 1: // Success
		if major != 11 || minor != 0 || extra < 8 {
			return result.Service{}, false, false
		}
		svc.Info = "open"
		release, ok1 := b.le32(8)
		vlen, ok2 := b.le16(24)
		if !ok1 || !ok2 {
			return svc, true, false
		}
		vendor, ok := b.span(40, int(vlen))
		if !ok {
			return svc, true, false
		}
		svc.Product = cleanBytes(vendor, maxText)
		svc.Version = x11Release(svc.Product, release)
		if strings.Contains(svc.Product, "X.Org") {
			svc.Product = "X.Org X server"
			svc.CPE = cpe("x.org", "xorg-server", svc.Version)
		}
	case 2: // Authenticate: the rest is the reason, padded
		svc.Info = joinInfo("authentication required", cleanBytes(got[8:min(len(got), 8+4*int(extra))], maxText))
		svc.Confidence = 8
	}
	return svc, true, false
}

// x11Release spells the release number of a known vendor: the X.Org
// server encodes its version as major*10000000 + minor*100000 +
// patch*1000 + snapshot, and since it numbers its releases 21.1 and on
// it encodes them as 1.21.1 did (21.1.7 is 12101007); other vendors'
// numbers are given as they are.
func x11Release(vendor string, r uint32) string {
	if r == 0 {
		return ""
	}
	if strings.Contains(vendor, "X.Org") && r >= 10000000 {
		v := []uint32{r / 10000000, r / 100000 % 100, r / 1000 % 100}
		if s := r % 1000; s != 0 {
			v = append(v, s)
		}
		if v[0] == 1 && v[1] >= 21 {
			v = v[1:]
		}
		var parts []string
		for _, x := range v {
			parts = append(parts, strconv.Itoa(int(x)))
		}
		return strings.Join(parts, ".")
	}
	return strconv.Itoa(int(r))
}

// matchX11Request reads a connection setup request of either byte order.
func matchX11Request(sent []byte) (result.Service, bool) {
	b := octets(sent)
	if len(sent) < 12 {
		return result.Service{}, false
	}
	var major uint16
	switch sent[0] {
	case 'l':
		major, _ = b.le16(2)
	case 'B':
		major, _ = b.be16(2)
	default:
		return result.Service{}, false
	}
	if major != 11 {
		return result.Service{}, false
	}
	return result.Service{Name: "x11", Confidence: 10}, true
}
