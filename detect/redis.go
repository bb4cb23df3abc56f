package detect

import (
	"bytes"
	"strconv"

	"github.com/portscan/portscan/result"
)

// Redis, and the servers that speak its protocol (RESP, the Redis
// documentation "Redis serialization protocol specification"). The probe
// is the command INFO server as a RESP array; the answer is a bulk
// string of "field:value" lines, redis_version among them, or an error
// when the server wants a password (-NOAUTH) or refuses clients from
// other hosts (-DENIED, protected mode): still Redis.
func init() {
	Register(&Protocol{
		Name:  "redis",
		Ports: []uint16{6379, 6380},
		Probe: func(string) []byte {
			return []byte("*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
		},
		Match:        matchRedis,
		MatchRequest: matchRedisRequest,
	})
}

// redisErrors are the error replies only Redis gives to INFO.
var redisErrors = []string{"-NOAUTH ", "-DENIED ", "-WRONGPASS ", "-NOPERM "}

// maxBulk bounds the INFO reply read.
const maxBulk = 1 << 20

func matchRedis(got []byte) (result.Service, bool, bool) {
	if len(got) == 0 {
		return result.Service{}, false, true
	}
	svc := result.Service{Name: "redis", Product: "Redis key-value store", Confidence: 10}
	switch got[0] {
	case '-':
		for _, e := range redisErrors {
			if isPrefixOf(got, e) {
				return result.Service{}, false, true
			}
			if bytes.HasPrefix(got, []byte(e)) {
				svc.Info = e[1 : len(e)-1]
				if e == "-DENIED " {
					svc.Info = "protected mode"
				}
				return svc, true, false
			}
		}
		// A server with INFO renamed away, or sent another protocol's
		// request (each of its lines a command), answers with Redis's
		// own wording of an unknown command, on one of its first lines.
		rest := got[:min(len(got), 1024)]
		for range 8 {
			line, r, ok := cutLine(rest)
			if !ok {
				return result.Service{}, false, len(got) < 1024 && bytes.HasPrefix(line, []byte("-"))
			}
			if bytes.HasPrefix(line, []byte("-ERR unknown command ")) && bytes.Contains(line, []byte("with args beginning with")) {
				svc.Confidence = 7
				return svc, true, false
			}
			if !bytes.HasPrefix(r, []byte("-ERR ")) {
				break
			}
			rest = r
		}
		return result.Service{}, false, false
	case '$':
		head := got[:min(len(got), 16)]
		line, rest, ok := cutLine(head)
		if !ok {
			for i, c := range got[1:] {
				if (c < '0' || c > '9') && !(c == '\r' && i == len(got)-2) {
					return result.Service{}, false, false
				}
			}
			return result.Service{}, false, len(got) < 16
		}
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n <= 0 || n > maxBulk {
			return result.Service{}, false, false
		}
		rest = got[len(head)-len(rest):]
		body := rest[:min(len(rest), n)]
		for _, key := range []string{"valkey_version:", "redis_version:"} {
			if v, ok := infoField(body, key); ok {
				if key == "valkey_version:" {
					svc.Product = "Valkey"
				}
				if versionish(v) {
					svc.Version = v
					if svc.Product == "Valkey" {
						svc.CPE = cpe("lfprojects", "valkey", v)
					} else {
						svc.CPE = cpe("redis", "redis", v)
					}
				}
				if mode, ok := infoField(body, "redis_mode:"); ok && mode != "standalone" {
					svc.Info = mode + " mode"
				}
				return svc, true, false
			}
		}
		if len(body) < n && isInfoPrefix(body) {
			return result.Service{}, false, true
		}
		return result.Service{}, false, false
	}
	return result.Service{}, false, false
}

// isInfoPrefix says whether an INFO reply cut short could still carry
// its version: it starts with its "# Server" section.
func isInfoPrefix(b []byte) bool {
	return isPrefixOf(b, "# Server\r\n") || bytes.HasPrefix(b, []byte("# Server\r\n"))
}

// infoField returns the value of a "key:value" line of an INFO reply,
// when the whole line is there.
func infoField(body []byte, key string) (string, bool) {
	i := bytes.Index(body, []byte("\n"+key))
	if i < 0 {
		return "", false
	}
	line, _, ok := cutLine(body[i+1+len(key):])
	if !ok {
		return "", false
	}
	return cleanBytes(line, 64), true
}

// matchRedisRequest reads a RESP array of bulk strings, the form every
// client sends commands in.
func matchRedisRequest(sent []byte) (result.Service, bool) {
	line, rest, ok := cutLine(sent[:min(len(sent), 64)])
	if !ok || len(line) < 2 || line[0] != '*' || len(rest) < 4 || rest[0] != '$' {
		return result.Service{}, false
	}
	if n, err := strconv.Atoi(string(line[1:])); err != nil || n < 1 || n > 1024 {
		return result.Service{}, false
	}
	l, _, ok := cutLine(rest)
	if !ok {
		return result.Service{}, false
	}
	if n, err := strconv.Atoi(string(l[1:])); err != nil || n < 1 || n > 64 {
		return result.Service{}, false
	}
	return result.Service{Name: "redis", Confidence: 7}, true
}
