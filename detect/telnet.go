package detect

import (
	"bytes"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "telnet", Ports: []uint16{23}, Match: matchTelnet})
}

// The TELNET commands of RFC 854 that a greeting opens with.
const (
	telnetSE   = 240
	telnetNOP  = 241
	telnetGA   = 249
	telnetSB   = 250
	telnetWILL = 251
	telnetDONT = 254
	telnetIAC  = 255
)

// matchTelnet reads a TELNET server's first bytes: option negotiation
// (RFC 854, RFC 855: IAC WILL/WONT/DO/DONT option, IAC SB ... IAC SE),
// which telnetd sends before anything else; or, from a server that
// negotiates nothing, a login prompt ("login: ", "Username: ") with
// lower confidence.
func matchTelnet(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	if len(b) == 0 {
		return result.Service{}, false, true
	}
	if b[0] != telnetIAC {
		if loginPrompt(b) {
			return result.Service{Name: "telnet", Confidence: 5}, true, false
		}
		return result.Service{}, false, false
	}
	negotiated := false
	i := 0
	for i < len(b) && b[i] == telnetIAC {
		if i+1 >= len(b) {
			return result.Service{}, false, !full && !negotiated
		}
		switch cmd := b[i+1]; {
		case cmd >= telnetWILL && cmd <= telnetDONT:
			if i+2 >= len(b) {
				return result.Service{}, false, !full && !negotiated
			}
			if !telnetOption(b[i+2]) {
				return result.Service{}, false, false
			}
			negotiated = true
			i += 3
		case cmd == telnetSB:
			if i+2 >= len(b) {
				return result.Service{}, false, !full && !negotiated
			}
			if !telnetOption(b[i+2]) {
				return result.Service{}, false, false
			}
			end := bytes.Index(b[i+2:], []byte{telnetIAC, telnetSE})
			if end < 0 {
				return result.Service{}, false, !full && !negotiated
			}
			negotiated = true
			i += 2 + end + 2
		case cmd >= telnetNOP && cmd <= telnetGA:
			i += 2
		default:
			// IAC IAC is a data byte 255, IAC SE without SB an error:
			// neither opens a greeting.
			if !negotiated {
				return result.Service{}, false, false
			}
			i = len(b)
		}
	}
	if !negotiated {
		// Only NOPs and GAs so far: negotiation may follow them.
		return result.Service{}, false, i >= len(b) && !full
	}
	return result.Service{Name: "telnet", Confidence: 10}, true, false
}

// telnetOption says whether o is an option the IANA registry of TELNET
// options assigns (0 to 49, 138 to 140, 255 extended options).
func telnetOption(o byte) bool {
	return o <= 49 || o >= 138 && o <= 140 || o == 255
}

// loginPrompt says whether b is text that ends in a prompt for a user
// name or password, waiting for it on the same line.
func loginPrompt(b []byte) bool {
	i := bytes.LastIndexByte(b, '\n')
	last := bytes.TrimRight(b[i+1:], " ")
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if !isText(bytes.TrimSuffix(l, []byte{'\r'})) {
			return false
		}
	}
	for _, p := range []string{"login:", "Login:", "Username:", "User Name:", "Password:"} {
		if bytes.HasSuffix(last, []byte(p)) {
			return true
		}
	}
	return false
}
