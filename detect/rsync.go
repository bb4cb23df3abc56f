package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "rsync", Ports: []uint16{873}, Match: matchRsync})
}

// rsyncGreeting opens an rsync daemon's greeting: "@RSYNCD: 31.0\n",
// since rsync 3.2 with the checksums it offers after the version
// ("@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\n"), as rsyncd.conf(5)'s
// protocol and rsync's own sources describe the daemon handshake.
const rsyncGreeting = "@RSYNCD: "

// matchRsync reads an rsync daemon's greeting.
func matchRsync(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	line, _, whole := cutLine(b)
	if !hasPrefixOf(line, rsyncGreeting) || whole && len(line) < len(rsyncGreeting) {
		return result.Service{}, false, false
	}
	if !whole {
		return result.Service{}, false, !full && len(line) < 256
	}
	if !isText(line) {
		return result.Service{}, false, false
	}
	fields := strings.Fields(string(line[len(rsyncGreeting):]))
	if len(fields) == 0 {
		return result.Service{}, false, false
	}
	major, minor, _ := strings.Cut(fields[0], ".")
	if !isDigits(major, 3) || minor != "" && !isDigits(minor, 3) {
		return result.Service{}, false, false
	}
	return result.Service{
		Name:       "rsync",
		Info:       "protocol version " + fields[0],
		Confidence: 10,
	}, true, false
}
