package detect

import (
	"strings"

	"github.com/portscan/portscan/result"
)

func init() {
	Register(&Protocol{Name: "ssh", Ports: []uint16{22}, Match: matchSSH})
}

// sshMaxIdent is the longest identification string RFC 4253 §4.2
// allows, CR LF included.
const sshMaxIdent = 255

// matchSSH reads the identification string an SSH server sends first
// (RFC 4253 §4.2): "SSH-protoversion-softwareversion SP comments CR LF".
// The server may send other lines before it; they are passed over when
// the identification follows them.
func matchSSH(got []byte) (result.Service, bool, bool) {
	b, full := greetHead(got)
	for i := 0; i < 16; i++ {
		line, rest, whole := cutLine(b)
		if whole && !strings.HasPrefix(string(line), "SSH-") {
			b = rest
			continue
		}
		if !hasPrefixOf(line, "SSH-") || i > 0 && len(line) == 0 {
			// After lines of other text, only an identification begun
			// is worth waiting for: any text greeting could be
			// followed by one.
			return result.Service{}, false, false
		}
		if !whole && (len(line) < sshMaxIdent && !full || len(line) < len("SSH-")) {
			return result.Service{}, false, !full
		}
		if len(line) > sshMaxIdent {
			line = line[:sshMaxIdent]
		}
		return parseSSHIdent(string(line))
	}
	return result.Service{}, false, false
}

// parseSSHIdent reads an identification line without its CR LF.
func parseSSHIdent(line string) (result.Service, bool, bool) {
	proto, rest, ok := strings.Cut(line[len("SSH-"):], "-")
	if !ok || !isProtoVersion(proto) || rest == "" {
		return result.Service{}, false, false
	}
	if !isText([]byte(rest)) {
		return result.Service{}, false, false
	}
	software, comments, _ := strings.Cut(rest, " ")
	svc := result.Service{Name: "ssh", Confidence: 10}
	svc.Product, svc.Version, svc.CPE = sshSoftware(software)
	info := packageInfo(comments)
	if info == "" {
		info = cleanText(comments, 80)
	}
	svc.Info = joinInfo(info, "protocol "+proto)
	return svc, true, false
}

// isProtoVersion says whether s reads as an SSH protocol version
// ("2.0", "1.99", "1.5").
func isProtoVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	return ok && isDigits(major, 2) && isDigits(minor, 3)
}

// isDigits says whether s is 1 to max ASCII digits.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sshSoftware names the implementation from the softwareversion field:
// "OpenSSH_9.2p1", "dropbear_2022.83", "libssh_0.10.4", "Cisco-1.25".
func sshSoftware(sw string) (product, version string, cpe []string) {
	name, ver := splitSoftware(sw)
	switch {
	case strings.HasPrefix(sw, "OpenSSH_for_Windows_"):
		v := versionPrefix(sw[len("OpenSSH_for_Windows_"):])
		return "OpenSSH for Windows", v, cpeApp("openbsd:openssh", v)
	case name == "OpenSSH":
		return "OpenSSH", ver, cpeApp("openbsd:openssh", ver)
	case strings.EqualFold(name, "dropbear"):
		return "Dropbear sshd", ver, cpeApp("matt_johnston:dropbear_ssh_server", ver)
	case strings.EqualFold(name, "libssh"):
		return "libssh", ver, cpeApp("libssh:libssh", ver)
	case name == "Cisco":
		return "Cisco SSH", ver, nil
	case name == "Go" && ver == "":
		return "Golang x/crypto/ssh server", "", nil
	case name == "ROSSSH":
		return "MikroTik RouterOS sshd", ver, nil
	case name == "AsyncSSH":
		return "AsyncSSH", ver, nil
	case strings.EqualFold(name, "paramiko"):
		return "Paramiko Python sshd", ver, nil
	}
	return cleanText(name, 40), ver, nil
}

// splitSoftware splits a software name from the version that follows
// it after '_', '-' or '/' ("OpenSSH_9.2p1", "Cisco-1.25"). Without a
// version, name is all of sw.
func splitSoftware(sw string) (name, version string) {
	for i := 0; i < len(sw); i++ {
		switch sw[i] {
		case '_', '-', '/':
			if v := versionPrefix(sw[i+1:]); v != "" && i > 0 {
				return sw[:i], v
			}
		}
	}
	return sw, ""
}
