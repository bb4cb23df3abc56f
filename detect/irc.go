package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "irc", Ports: []uint16{6667, 6665, 6666, 6668, 6669, 194}, Match: matchIRC})
}

// ircMaxLine is the longest IRC message, CR LF included (RFC 2812
// §2.3).
const ircMaxLine = 512

// matchIRC reads what an IRC server sends a client before it
// registers (RFC 2812 §2.3.1: [":" prefix SPACE] command params CRLF):
// the notices of its ident and DNS lookups ("NOTICE AUTH :*** Looking
// up your hostname", ":irc.example.net NOTICE * :*** ..."), a numeric
// reply from a named server (":irc.example.net 020 * :Please wait"), a
// PING to check the client answers, or an ERROR that closes the link.
func matchIRC(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	line, _, whole := cutLine(b)
	if !whole {
		if full || len(line) >= ircMaxLine || !isText(line) {
			return result.Service{}, false, false
		}
		s := string(line)
		if s == "" || s[0] == ':' && !strings.ContainsAny(s, " \t") {
			return result.Service{}, false, true
		}
		prefixed := s[0] == ':'
		if prefixed {
			_, s, _ = strings.Cut(s, " ")
		}
		command, _, spaced := strings.Cut(s, " ")
		for _, c := range []string{"NOTICE", "PING", "ERROR"} {
			if spaced && command == c || !spaced && hasPrefixOf([]byte(command), c) {
				return result.Service{}, false, true
			}
		}
		numeric := command == "" || isDigits(command, 3) && (!spaced || len(command) == 3)
		return result.Service{}, false, prefixed && numeric
	}
	if len(line) >= ircMaxLine || !isText(line) {
		return result.Service{}, false, false
	}
	s := string(line)
	prefix := ""
	if strings.HasPrefix(s, ":") {
		var ok bool
		prefix, s, ok = strings.Cut(s[1:], " ")
		if !ok || prefix == "" {
			return result.Service{}, false, false
		}
	}
	command, params, _ := strings.Cut(s, " ")
	svc := result.Service{Name: "irc", Confidence: 10}
	switch {
	case command == "NOTICE":
		target, text, _ := strings.Cut(params, " ")
		if target != "AUTH" && target != "*" || !strings.HasPrefix(text, ":") {
			return result.Service{}, false, false
		}
	case len(command) == 3 && isDigits(command, 3):
		// A numeric reply comes only from a server, which names itself.
		if prefix == "" {
			return result.Service{}, false, false
		}
		svc.Confidence = 8
	case command == "PING" && strings.HasPrefix(params, ":") && len(params) > 1:
		svc.Confidence = 7
	case command == "ERROR" && containsFold(params, "closing link"):
	default:
		return result.Service{}, false, false
	}
	return svc, true, false
}
