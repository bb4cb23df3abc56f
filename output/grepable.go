package output

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/result"
)

// grepWriter writes nmap's grepable format (nmap -oG): a comment line,
// then for each host as it finishes a Status line and a Ports line,
// then a closing comment. The lines have nmap's shape, field names and
// separators, so that the scripts written for it (grep /open/, cut on
// tabs, split on ", " and "/") read it; the comments name portscan.
type grepWriter struct {
	w     *bufio.Writer
	opt   Options
	hosts inflight
}

func newGrepable(w io.Writer, opt Options) *grepWriter {
	return &grepWriter{w: bufio.NewWriter(w), opt: opt, hosts: make(inflight)}
}

func (g *grepWriter) begin(info result.Info) error {
	g.w.WriteString("# portscan")
	if info.Version != "" {
		g.w.WriteString(" " + grepEscape(info.Version, ""))
	}
	g.w.WriteString(" scan initiated")
	if !info.Start.IsZero() {
		g.w.WriteString(" " + timestr(info.Start))
	}
	// joinArgs quotes the words with tabs and newlines; what control
	// characters are left are escaped with the rest.
	fmt.Fprintf(g.w, " as: %s\n", grepEscape(joinArgs(info.Args), ""))
	return g.w.Flush()
}

func (g *grepWriter) port(r result.Port) error {
	g.hosts.get(hostKey{r.Host, r.Hostname}).add(r, g.opt.shows(r.State))
	return nil
}

func (g *grepWriter) host(h result.Host) error {
	return g.write(h, g.hosts.take(hostKey{h.Addr, h.Hostname}), false)
}

func (g *grepWriter) write(h result.Host, b *hostBuf, incomplete bool) error {
	list := b.finish(&g.opt, h.Counts)
	if !h.Up && !g.opt.ShowDown && (!incomplete || len(list) == 0) {
		return nil
	}
	head := "Host: " + h.Addr.String() + " (" + grepEscape(h.Hostname, "()") + ")\t"
	status := "Down"
	switch {
	case h.Up:
		status = "Up"
	case incomplete:
		status = "Unknown"
	}
	g.w.WriteString(head + "Status: " + status)
	if mac := h.MACString(); mac != "" {
		// nmap's -oG has no MAC field: this one follows its fields'
		// "Name: value" form, after the status, where a script that
		// reads nmap's lines does not look.
		g.w.WriteString("\tMAC: " + mac + " (" + grepEscape(h.Vendor, "()") + ")")
	}
	g.w.WriteString("\n")
	states := b.hiddenStates()
	if (h.Up || len(list) > 0) && (len(list) > 0 || len(states) > 0) {
		g.w.WriteString(head + "Ports: ")
		for i, r := range list {
			if i > 0 {
				g.w.WriteString(", ")
			}
			g.w.WriteString(grepPort(r))
		}
		for i, s := range states {
			if i == 0 {
				g.w.WriteString("\tIgnored State: ")
			} else {
				g.w.WriteString(", ")
			}
			fmt.Fprintf(g.w, "%s (%d)", s, b.hidden[s].count)
		}
		g.w.WriteString("\n")
	}
	return g.w.Flush()
}

// grepPort writes one entry of a Ports field, nmap's seven fields each
// followed by a slash: port, state, protocol, owner (never known to a
// connect scan), service, SunRPC info (never probed) and version, from
// service detection when it ran.
func grepPort(r result.Port) string {
	service := ""
	if r.Service != nil {
		service = r.Service.Name
	}
	version := versionText(r.Detected)
	return strconv.Itoa(int(r.Port.Number)) + "/" + r.State.String() + "/" + r.Port.Proto.String() + "//" +
		grepEscape(service, "/,") + "//" + grepEscape(version, "/,") + "/"
}

func (g *grepWriter) end(s result.Summary) error {
	for _, b := range g.hosts.drain() {
		if err := g.write(b.unfinished(), b, true); err != nil {
			return err
		}
	}
	word := "done"
	if s.Interrupted {
		word = "interrupted"
	}
	fmt.Fprintf(g.w, "# portscan %s", word)
	if !s.End.IsZero() {
		g.w.WriteString(" at " + timestr(s.End))
	}
	n := s.HostsUp + s.HostsDown
	fmt.Fprintf(g.w, " -- %s (%s up) scanned in %.2f seconds\n", text.Count(n, "IP address", "IP addresses"),
		text.Count(s.HostsUp, "host", "hosts"), max(s.End.Sub(s.Start).Seconds(), 0))
	return g.w.Flush()
}

// grepEscape writes as \xHH each byte of s that could end a line or a
// field: control characters, bytes that are not UTF-8, and the bytes of
// seps, the separators of the field s goes in; and the backslash, when
// seps are given, so that the field reads back unambiguously.
func grepEscape(s, seps string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		esc := r == utf8.RuneError && n == 1 || r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 ||
			seps != "" && (r == '\\' || strings.ContainsRune(seps, r))
		if !esc {
			b.WriteString(s[i : i+n])
		} else {
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		i += n
	}
	return b.String()
}
