// Package audit checks the ports found open against a policy that says
// what should be open, for CI pipelines and scheduled audits.
//
// # Policy
//
// A policy is a YAML file of named groups of hosts, each with the ports
// that may be open (allow), must be open (require) and must never be open
// (deny), and what to do with any other open port (other: deny, the
// default, or warn):
//
//	version: 1                  # optional
//	scan:                       # optional; the scan flags of the same names override these
//	  ports: 1-1024,8000-8100   # a string or a list; default: the catalog's ports
//	  udp: false
//	  rate: 500                 # probes per second
//	  retries: 1
//	  max-rtt-timeout: 2s
//	groups:
//	  - name: web
//	    description: the web tier   # optional, for people
//	    targets: [198.18.0.1-5]     # anything the scanner takes
//	    exclude: [198.18.0.4]       # optional
//	    allow: [ssh, http, 443/tcp, 8000-8100]
//	    require: [https]
//	    deny: [mysql, 23]
//	    other: deny                 # or warn
//
// Ports are numbers, ranges, or service names from the catalog, TCP unless
// written "53/udp" or "U:53". The other scan settings are concurrency,
// host-group, initial-rtt-timeout, min-rtt-timeout, skip-discovery,
// exclude-ports and detect (service detection).
//
// A group may also judge what service detection found on its hosts'
// open ports:
//
//	services:                 # the port, when open, must speak one of them
//	  443/tcp: https
//	  8443: [https, ssl/http-alt]
//	deny_services: [telnet]   # on no open port
//	tls:                      # every open port with a TLS handshake
//	  min_version: "1.2"      # 1.0 to 1.3
//	  expires_within: 30d     # or 720h, 1d12h
//	  self_signed: deny       # or warn, or allow (the default)
//
// Names are nmap's; see [MatchService] for how they meet what detection
// found. [Policy.Detects] says whether a policy has such rules, so that
// a scan for it runs detection. Parse rejects a policy that cannot be used before
// anything is scanned, with the file, line and column and what was
// expected: YAML syntax, unknown keys, values of the wrong type, unknown
// service names, bad targets, a port both allowed (or required) and
// denied, two groups of one name. Anchors, aliases and tags are refused.
//
// A policy is read from untrusted places (a pull request, a shared
// directory), and the YAML parser's memory grows with the square of how
// deeply a document nests. So a policy larger than [MaxSize] (256 KiB),
// or whose collections nest deeper than [MaxDepth] (64 levels), is
// refused before it is parsed, with an error that wraps [ErrTooLarge] or
// [ErrTooDeep] and gives the limit, and for depth the line and column
// where it was passed. Load reads no further than the size limit, so a
// policy that never ends (a pipe, /dev/zero) is refused at once.
//
// # Judging
//
// Judge applies each group to the hosts of a run (see the baseline
// package) that its targets cover; see Judge for the rules. The Report it
// returns is written as text, JSON, JUnit XML, SARIF 2.1.0, GitHub
// Actions workflow commands, or Markdown for a job summary.
package audit
