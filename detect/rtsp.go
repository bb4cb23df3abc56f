package detect

import (
	"github.com/portscan/portscan/result"
)

// RTSP (RFC 2326; RFC 7826 for 2.0). The probe is OPTIONS for "*", the
// server as a whole (RFC 2326 §10.1), which needs no session and no
// stream name; the answer is an RTSP status line, usually with a Server
// field (§12.36).
func init() {
	Register(&Protocol{
		Name:         "rtsp",
		Ports:        []uint16{554, 8554},
		Probe:        func(string) []byte { return []byte("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: portscan\r\n\r\n") },
		Match:        matchRTSP,
		MatchRequest: matchRTSPRequest,
	})
}

func matchRTSP(got []byte) (result.Service, bool, bool) {
	h, r := parseStatus(got, "RTSP/")
	switch r {
	case headNo:
		return result.Service{}, false, false
	case headMore:
		return result.Service{}, false, true
	}
	if (h.proto != "RTSP/1.0" && h.proto != "RTSP/2.0") || h.code < 100 || h.code > 599 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "rtsp", Confidence: 10}
	productVersion(&svc, h.get("Server"))
	return svc, true, false
}

func matchRTSPRequest(sent []byte) (result.Service, bool) {
	if _, _, ok := parseRequestLine(sent, "RTSP/"); ok {
		return result.Service{Name: "rtsp", Confidence: 10}, true
	}
	return result.Service{}, false
}
