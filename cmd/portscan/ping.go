package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portscan/portscan/ports"
	"github.com/portscan/portscan/raw"
	"github.com/portscan/portscan/scanner"
)

// pingFlags are the flags of host discovery: nmap's -PE, -PP, -PS, -PA
// and -PU (as --ping-echo, --ping-timestamp, --ping-syn, --ping-ack and
// --ping-udp, which nmapPings writes them as), and --unprivileged.
type pingFlags struct {
	echo, timestamp bool
	syn, ack, udp   []string // port lists, one a flag given
	unprivileged    bool
}

func addPingFlags(cmd *cobra.Command, p *pingFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&p.echo, "ping-echo", false, "discover hosts beyond the scanner's links by ICMP echo (nmap -PE; needs root or CAP_NET_RAW)")
	fl.BoolVar(&p.timestamp, "ping-timestamp", false, "discover hosts beyond the scanner's links by ICMP timestamp requests (nmap -PP; needs root or CAP_NET_RAW)")
	fl.StringArrayVar(&p.syn, "ping-syn", nil, "discover hosts by TCP SYNs to these `PORTS` (nmap -PS, 80 if none; without privileges, by connecting to them)")
	fl.StringArrayVar(&p.ack, "ping-ack", nil, "discover hosts beyond the scanner's links by TCP ACKs to these `PORTS` (nmap -PA, 80 if none; needs root or CAP_NET_RAW)")
	fl.StringArrayVar(&p.udp, "ping-udp", nil, "discover hosts beyond the scanner's links by UDP datagrams to these `PORTS` (nmap -PU, 40125 if none; needs root or CAP_NET_RAW)")
	fl.BoolVar(&p.unprivileged, "unprivileged", false, "discover hosts by connecting to 80 and 443, as without privileges, even as root (nmap --unprivileged)")
}

// pingLetters are the kinds of nmap's -P options that portscan takes,
// by their letter, and the default port of those that take ports.
var pingLetters = map[byte]struct {
	long string
	port string // "" for a ping without ports
}{
	'E': {"--ping-echo", ""},
	'P': {"--ping-timestamp", ""},
	'S': {"--ping-syn", fmt.Sprint(scanner.DefaultPingSYNPort)},
	'A': {"--ping-ack", fmt.Sprint(scanner.DefaultPingACKPort)},
	'U': {"--ping-udp", fmt.Sprint(scanner.DefaultPingUDPPort)},
}

// pingRefused explains nmap's other -P options.
var pingRefused = map[byte]string{
	'O': "nmap's -PO (IP protocol ping) is not done; discovery pings are -PE, -PP, -PS, -PA and -PU",
	'Y': "nmap's -PY (SCTP INIT ping) is not done; discovery pings are -PE, -PP, -PS, -PA and -PU",
	'M': "nmap's -PM (ICMP address mask ping) is not done: hosts hardly answer it; use -PE or -PP",
	'R': "nmap's -PR needs no asking: with privileges, hosts on the scanner's own links are always found by ARP (IPv4) and NDP (IPv6)",
	'0': "nmap's -P0 is its old spelling of -Pn: give -Pn (--skip-discovery)",
}

// portList is a word that can only be a list of ports: digits, commas
// and dashes, starting with a digit.
var portList = regexp.MustCompile(`^[0-9][0-9,-]*$`)

// nmapPings rewrites nmap's discovery options before flag parsing: -PE
// and -PP become --ping-echo and --ping-timestamp; -PS, -PA and -PU take
// their ports glued (-PS22,80) or as the next argument when it is a
// port list (-PS 22,80: nmap would read that as a target), else their
// default port. -Pn and -PN are left to nmapSpellings; the other -P
// options are refused with the reason. It stops at "--".
func nmapPings(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		if len(a) < 3 || a[0] != '-' || a[1] != 'P' || a == "-Pn" || a == "-PN" {
			out = append(out, a)
			continue
		}
		if why, ok := pingRefused[a[2]]; ok {
			return nil, errors.New(why)
		}
		k, ok := pingLetters[a[2]]
		if !ok {
			out = append(out, a) // pflag says it is unknown
			continue
		}
		rest := a[3:]
		switch {
		case k.port == "" && rest != "":
			return nil, fmt.Errorf("%s: nmap's -P%c takes no ports", a, a[2])
		case k.port == "":
			out = append(out, k.long)
		case rest != "":
			out = append(out, k.long+"="+rest)
		case i+1 < len(args) && portList.MatchString(args[i+1]):
			i++
			out = append(out, k.long+"="+args[i])
		default:
			out = append(out, k.long+"="+k.port)
		}
	}
	return out, nil
}

// pings reads the pings the flags ask for, in nmap's order (echo,
// timestamp, SYN, ACK, UDP); nil when none was asked for.
func (p *pingFlags) pings() ([]scanner.Ping, error) {
	var out []scanner.Ping
	if p.echo {
		out = append(out, scanner.Ping{Kind: scanner.PingEcho})
	}
	if p.timestamp {
		out = append(out, scanner.Ping{Kind: scanner.PingTimestamp})
	}
	for _, l := range []struct {
		kind  scanner.PingKind
		flag  string
		lists []string
		proto ports.Protocol
	}{
		{scanner.PingSYN, "-PS (--ping-syn)", p.syn, ports.TCP},
		{scanner.PingACK, "-PA (--ping-ack)", p.ack, ports.TCP},
		{scanner.PingUDP, "-PU (--ping-udp)", p.udp, ports.UDP},
	} {
		seen := map[uint16]bool{}
		for _, spec := range l.lists {
			set, err := ports.ParseSpec(spec, ports.SpecOptions{Protocols: []ports.Protocol{l.proto}})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.flag, err)
			}
			for pt := range set.Ports() {
				if pt.Proto != l.proto {
					return nil, fmt.Errorf("%s: %s is not a %s port", l.flag, pt, strings.ToUpper(l.proto.String()))
				}
				if !seen[pt.Number] {
					seen[pt.Number] = true
					out = append(out, scanner.Ping{Kind: l.kind, Port: pt.Number})
				}
			}
		}
	}
	return out, nil
}

// rawOnly names the first flag of pings that only raw packets can send:
// all but -PS, which connects without privileges.
func rawOnly(pings []scanner.Ping) string {
	for _, p := range pings {
		switch p.Kind {
		case scanner.PingEcho:
			return "-PE"
		case scanner.PingTimestamp:
			return "-PP"
		case scanner.PingACK:
			return "-PA"
		case scanner.PingUDP:
			return "-PU"
		}
	}
	return ""
}

// applyDiscovery chooses how the job finds hosts up. With privileges
// (root or CAP_NET_RAW), and without --unprivileged, it is raw
// discovery, as nmap's: ARP and NDP on the scanner's links, the pings
// asked for (nmap's default four if none) beyond them. Without, it is
// connects to 80 and 443, or to the ports of -PS; the other pings need
// privileges, and asking for them is a usage error.
func (p *pingFlags) applyDiscovery(g *globals, f *scanFlags, job *scanJob) error {
	pings, err := p.pings()
	if err != nil {
		return err
	}
	if len(pings) > 0 && f.opts.SkipDiscovery && !f.discoverOnly {
		return errors.New("-Pn (--skip-discovery) skips host discovery: drop it, or the -P pings")
	}
	if f.opts.SkipDiscovery && !f.discoverOnly {
		return nil
	}
	check := g.rawCheck
	if check == nil {
		check = raw.Check
	}
	var why error
	switch {
	case p.unprivileged:
		why = errors.New("--unprivileged was given")
	default:
		why = check()
	}
	if why != nil {
		if flag := rawOnly(pings); flag != "" {
			if errors.Is(why, raw.ErrPermission) {
				return fmt.Errorf("%s needs raw sockets: run as root or with CAP_NET_RAW, or discover by connecting (-PS PORTS, the default 80 and 443)", flag)
			}
			return fmt.Errorf("%s needs raw sockets, and %v: discover by connecting (-PS PORTS, the default 80 and 443)", flag, why)
		}
		if len(pings) > 0 {
			job.cfg.DiscoveryPorts = make([]uint16, 0, len(pings))
			for _, pg := range pings {
				job.cfg.DiscoveryPorts = append(job.cfg.DiscoveryPorts, pg.Port)
			}
		}
		return nil
	}
	job.cfg.RawDiscovery = true
	job.cfg.Pings = pings
	return nil
}
