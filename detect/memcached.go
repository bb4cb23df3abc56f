package detect

import (
	"bytes"

	"github.com/portscan/portscan/result"
)

// memcached's text protocol (memcached's doc/protocol.txt, "General-
// purpose commands"): "version" is answered "VERSION <version>".
func init() {
	Register(&Protocol{
		Name:  "memcached",
		Ports: []uint16{11211},
		Probe: func(string) []byte { return []byte("version\r\n") },
		Match: matchMemcached,
	})
}

func matchMemcached(got []byte) (result.Service, bool, bool) {
	const prefix = "VERSION "
	if isPrefixOf(got, prefix) {
		return result.Service{}, false, true
	}
	if !bytes.HasPrefix(got, []byte(prefix)) {
		return result.Service{}, false, false
	}
	line, _, ok := cutLine(got[len(prefix):min(len(got), 128)])
	if !ok {
		return result.Service{}, false, len(got) < 128
	}
	v := cleanBytes(line, 64)
	if !versionish(v) {
		return result.Service{}, false, false
	}
	return result.Service{Name: "memcached", Product: "Memcached", Version: v,
		CPE: cpe("memcached", "memcached", v), Confidence: 10}, true, false
}
