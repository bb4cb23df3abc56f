package detect

import (
	"strconv"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "vnc", Ports: []uint16{5900, 5901, 5902, 5903}, Match: matchVNC})
}

// matchVNC reads an RFB server's ProtocolVersion message (RFC 6143
// §7.1.1): exactly 12 bytes, "RFB xxx.yyy\n", three digits of major and
// of minor version. The published versions are 3.3, 3.7 and 3.8; others
// name implementations (3.889 is Apple's Remote Desktop; 4.x and 5.x
// RealVNC's).
func matchVNC(got []byte) (result.Service, bool, bool) {
	const form = "RFB ddd.ddd\n"
	n := min(len(got), len(form))
	for i := 0; i < n; i++ {
		c := got[i]
		if form[i] == 'd' {
			if c < '0' || c > '9' {
				return result.Service{}, false, false
			}
		} else if c != form[i] {
			return result.Service{}, false, false
		}
	}
	if n < len(form) {
		return result.Service{}, false, true
	}
	major := rfbNumber(got[4:7])
	minor := rfbNumber(got[8:11])
	svc := result.Service{Name: "vnc", Confidence: 10, Info: "protocol " + strconv.Itoa(major) + "." + strconv.Itoa(minor)}
	switch {
	case major == 3 && minor == 889:
		svc.Product = "Apple remote desktop vnc"
	case major == 4 || major == 5:
		svc.Product = "RealVNC"
		svc.CPE = cpeApp("realvnc:realvnc", "")
	}
	return svc, true, false
}

// rfbNumber reads three ASCII digits.
func rfbNumber(b []byte) int {
	return int(b[0]-'0')*100 + int(b[1]-'0')*10 + int(b[2]-'0')
}
