// Package output writes the results of a scan or a capture analysis as
// text, jsonl, json, csv, nmap-style XML, nmap's grepable format or an
// HTML page.
//
// A Writer from New receives the run's events as they happen: Begin, then
// Port for each result and Host when a host is done, in any interleaving
// across hosts, then End. Each event is written through to the io.Writer
// before the call returns, so an interrupted run loses nothing it has
// reported, and End always leaves a well-formed document. Memory is held
// only for hosts in flight: jsonl and csv keep no results at all; text,
// json and xml keep a host's listed ports until its Host call.
//
// # What is shown
//
// Ports whose state is in Options.Show (by default open and
// open|filtered) or Options.ShowAll are reported one by one; the rest are
// counted in the host summaries. Text and XML also fold any state but
// open and those in ShowAll that has more than Options.Collapse ports on
// one host (25 by default) into the count, as nmap does with its ignored
// states; text's "Not shown" line then says so.
//
// jsonl and json list every host, down ones included ("status":"down").
// Text and XML list hosts found down only with Options.ShowDown, as nmap
// does without -v: text then counts them on a "Not shown" line, or notes
// that a lone target seems down, and XML counts them in its runstats.
// csv has no host rows. The summary counts every host listed, those a
// Writer closes itself at End (an interrupted run) included.
//
// # jsonl schema
//
// jsonl output is one JSON object per line. Every line has a "type":
// one "scan" line first, then "port" and "host" lines as results arrive,
// then one "summary" line. The schema is stable: fields may be added,
// never renamed or removed. Times are RFC 3339 with nanoseconds.
//
// A "scan" line (ScanRecord):
//
//	scanner      string    always "portscan"
//	version      string    portscan's version
//	args         [string]  the command line
//	start        time      when the run started; omitted if unknown
//	scan_type    string    "connect", "udp" or "pcap"
//	protocols    [string]  "tcp", "udp"
//	ports        string    the port specification
//	num_ports    number    ports per protocol
//	seed         number    the seed of the probe order and the shards;
//	                       omitted if none was given
//	fingerprint  string    names the scan's definition (targets,
//	                       exclusions, ports, protocols, seed): the same
//	                       in every shard and resumed run of one scan;
//	                       omitted for captures
//	shard        object    {"index": K, "count": N}, K from 0, in a
//	                       sharded scan only
//
// A "port" line (PortRecord), one per reported port:
//
//	host            string   IP address
//	hostname        string   the name given for the host; omitted if none
//	port            number   port number
//	protocol        string   "tcp" or "udp"
//	state           string   "open", "closed", "filtered", "open|filtered"
//	reason          string   why, in nmap's words: "syn-ack", "conn-refused",
//	                         "no-response", "port-unreach", "udp-response", ...
//	ttl             number   the IP TTL (IPv6 hop limit) of the reply that
//	                         decided the state, as it arrived: the
//	                         target's SYN-ACK or RST, an ICMP error's own
//	                         (the target's, or a router's) in a SYN scan
//	                         (-sS); omitted when unknown (no reply, a
//	                         connect or UDP scan, a capture)
//	reason_ip       string   who sent the ICMP error that decided the
//	                         state when it was not the target (a router
//	                         on the way, rejecting), as nmap's reason_ip;
//	                         omitted when the target answered or nothing
//	                         did
//	service         string   catalog name for the port; "" if none
//	description     string   catalog description in Chinese; "" if none
//	description_en  string   catalog description in English; "" if none
//	service_source  string   the catalog: "builtin" or a file path; "" if none
//	rtt_ms          number   probe round trip in milliseconds; 0 if no answer
//	time            time     when the state was decided; omitted if unknown
//	source          string   "scan" or "pcap"
//	evidence        object   pcap only: flows, clients, packets_to_server,
//	                         packets_from_server, bytes_to_server,
//	                         bytes_from_server, first_seen, last_seen
//	detected        object   what service detection found (-sV, or a
//	                         capture's content), when it ran on the port
//	                         (DetectedRecord); omitted otherwise
//	label           string   how detected compares with the catalog's
//	                         service: "confirmed", "differs" or "unknown"
//	                         (nothing matched); omitted without detected
//	shard           number   the shard index (from 0) of the run that
//	                         probed it, in a sharded scan only
//
// A "detected" object (DetectedRecord):
//
//	name            string   the service, in nmap's names ("ssh", "http",
//	                         "ssl" for TLS around an unknown protocol);
//	                         "" when nothing matched
//	tunnel          string   "ssl" when it spoke inside TLS, else ""
//	product         string   "OpenSSH", "nginx"; omitted if unknown
//	version         string   "9.2p1"; omitted if unknown
//	info            string   other facts: "protocol 2.0", "Debian ...";
//	                         omitted if none
//	cpe             [string] CPE 2.2 names; omitted if none
//	method          string   "probe" (a live port), "capture", or
//	                         "nmap-service-probes"
//	confidence      number   0 to 10, as nmap's conf
//	banner          string   the first bytes the service sent (at most
//	                         256), escaped as text output escapes them;
//	                         omitted if it sent nothing
//	tls             object   the TLS handshake, if one was made: version,
//	                         cipher, alpn, sni (the name sent; omitted
//	                         when the target was an address), subject,
//	                         sans, issuer, not_before, not_after,
//	                         self_signed, chain_length
//
// Every string of it is valid UTF-8: bytes that are not are written
// U+FFFD, and encoding/json escapes control characters.
//
// A "host" line (HostRecord), once a host is done:
//
//	host, hostname  as above
//	mac             string   the host's MAC address, as nmap writes it
//	                         ("00:00:0C:12:34:56"), when raw discovery
//	                         found it on the scanner's link (ARP, NDP);
//	                         omitted otherwise, as for a host beyond a
//	                         router
//	vendor          string   the organisation the IEEE registry assigns
//	                         the MAC's first three bytes to; omitted when
//	                         unknown or the system has no registry
//	up              bool     whether the host answered
//	status          string   "up", "down", or "unknown" for an incomplete
//	                         host that had not answered yet
//	reason          string   why it is up or down
//	ttl             number   the IP TTL (IPv6 hop limit) of the reply that
//	                         gave the reason (an echo reply, a SYN-ACK, an
//	                         ICMP error), with raw discovery or -sS;
//	                         omitted when unknown (no reply, a connect, an
//	                         ARP or NDP answer)
//	reason_ip       string   who sent the ICMP error that gave the reason
//	                         when it was not the host (a router's
//	                         host-unreach for a host found down); omitted
//	                         otherwise. XML's <status> has no place for it
//	latency_ms      number   mean round trip of its answered probes
//	probes          number   probes sent
//	silent          number   probes that got no answer
//	counts          object   ports per state, e.g. {"open":2,"closed":998}
//	start, end      time     when its first probe went and its last ended
//	source          string   "scan" or "pcap"
//	incomplete      bool     true when the run ended before the host was
//	                         done; omitted otherwise
//	tarpit          bool     true when the host answered open on nearly
//	                         every port (result.IsTarpit): its open ports
//	                         say nothing; omitted otherwise
//	cut_short       bool     true when probing the host stopped at the cap
//	                         on open ports per host; omitted otherwise
//	unscanned       number   ports then left unscanned; omitted if none
//	index           number   the host's place in the targets, from 1, the
//	                         same in every shard; omitted when unknown
//	shard           number   as for ports
//
// A "summary" line (SummaryRecord), last:
//
//	start, end      time     the run's bounds; omitted if unknown
//	elapsed_s       number   seconds
//	hosts           number   hosts_up + hosts_down + hosts_unknown: every
//	                         host listed
//	hosts_up        number
//	hosts_down      number
//	hosts_unknown   number   incomplete hosts that had not answered yet
//	open            number   open ports found
//	probes          number   probes sent
//	probes_per_s    number   average rate
//	interrupted     bool     true if the run was cut short
//	capture         object   pcap only: packets, skipped, flows,
//	                         evicted_idle, evicted_full, unreported
//
// # json
//
// json output is one document with the same records, without "type":
//
//	{"scan": {...}, "hosts": [{...host..., "ports": [{...port...}]}], "summary": {...}}
//
// It is written as it goes: the head at Begin, one host object per Host
// call, and the rest at End, which first writes any host still in flight
// with "incomplete": true. jsonl does the same with host lines.
//
// # csv
//
// csv output is a header row (CSVHeader) and one row per reported port,
// with the "port" fields in the order above but ttl and reason_ip
// (nmap's formats other than XML have no place for them either), the
// evidence fields spread over eight columns, empty for scans, and the
// detected object over 21 (detected_name, detected_tunnel, product, version, info, cpe,
// method, confidence, banner, label, then tls_ and each TLS field),
// empty where detection did not run; lists are joined with spaces, and
// every detected field is escaped as text output escapes it. It is
// UTF-8 without a byte order mark.
//
// # xml
//
// xml output follows nmap's XML format (nmap.dtd, output version 1.05)
// so that ndiff and tools that import nmap results can read it. A
// capture analysis has no scaninfo element, and an interrupted run ends
// with exit="error". What the format has no element for (an incomplete
// host, a tarpit, a host cut short) goes in the comment attribute
// nmap.dtd allows on a <host>. The elements are those of the nmapxml package, the
// model baseline reads the format back with; each <host> is encoded as
// its host finishes.
//
// The root's scanner attribute is "nmap", the only value nmap.dtd
// allows and the one ndiff and importers look for. What names portscan
// is what the format leaves free: version is "portscan 0.1.0" (nmap.xsl
// and ndiff print it after the word "Nmap": "Nmap portscan 0.1.0 was
// initiated", "Nmap portscan 0.1.0 scan initiated"), args is the command
// line, which starts with "portscan", the comment before the root says
// "portscan 0.1.0 run started", and the runstats summary, which nmap.xsl
// shows, is "portscan done at ...". verbose and debugging hold numeric
// levels, 0.
//
// Options.Stylesheet, when set, is written as an xml-stylesheet
// instruction after the DOCTYPE, as nmap writes one, so that a browser
// renders the file with nmap.xsl.
//
// Ports carry their catalog service name with method "table" and conf
// "3", as nmap's own table lookups do. The catalog's description has no
// attribute in the format: <service>'s product, version and extrainfo
// are facts version detection read from the service, servicefp its
// fingerprint, and a description of what usually listens on a port is
// neither. It goes in a comment inside the <port>, after <service>, in
// the description language of text output, naming the catalog when it
// is not the built-in one:
//
//	<service name="ssh" method="table" conf="3"></service>
//	<!-- catalog: Secure Shell (SSH) service -->
//
// DTD validation, ndiff and nmap.xsl ignore comments.
//
// The reason_ttl of a port's <state> and a host's <status> is the TTL of
// the reply that gave the reason, as nmap writes it ("0" when unknown,
// as nmap writes it for a connect scan, an ARP answer or no reply):
//
//	<state state="open" reason="syn-ack" reason_ttl="63"></state>
//	<status state="up" reason="echo-reply" reason_ttl="63"></status>
//
// A port whose state an ICMP error from someone other than the target
// decided (a router rejecting the probe) names the sender in reason_ip,
// as nmap does; nmap's DTD has it on <state> only:
//
//	<state state="filtered" reason="admin-prohibited" reason_ttl="63" reason_ip="198.18.1.1"></state>
//
// A host whose MAC address is known has a second <address>, as nmap
// writes it, after its IP address:
//
//	<address addr="198.18.0.1" addrtype="ipv4"></address>
//	<address addr="00:00:0C:12:34:56" addrtype="mac" vendor="Cisco Systems, Inc"></address>
//
// with no vendor attribute when the vendor is unknown.
//
// When service detection named the service, <service> says what it
// found, as nmap's -sV writes it: method "probed", its confidence, and
// product, version, extrainfo, tunnel and <cpe> where known:
//
//	<service name="http" method="probed" conf="10" product="nginx" version="1.22.1" tunnel="ssl">
//	  <cpe>cpe:/a:igor_sysoev:nginx:1.22.1</cpe>
//	</service>
//
// A port detection could not name keeps the catalog's <service>. The
// TLS details and the banner have no place in the format outside
// nmap's script output; jsonl, json and csv carry them.
//
// # grepable
//
// grepable output follows the layout nmap documents for -oG, so that
// scripts written for it work: a "# portscan VERSION scan initiated
// DATE as: ARGS" comment (nmap's line, with portscan's name: a grep for
// "^#" skips both), then, as each host finishes, two lines of
// tab-separated fields,
//
//	Host: 127.0.0.1 (NAME)	Status: Up
//	Host: 127.0.0.1 (NAME)	Ports: 22/open/tcp//ssh///, 80/open/tcp//http///	Ignored State: closed (309)
//
// and a "# portscan done at DATE -- N IP addresses (M hosts up) scanned
// in S seconds" comment ("interrupted" for "done" when the run was cut
// short). NAME is the name given for the host, or empty. Each port entry
// is nmap's seven fields, each followed by "/": port, state, protocol,
// owner (always empty), service, SunRPC info (always empty) and version
// (service detection's product, version and info, when it ran). The
// ports listed are those shown (Options.Show); the others are counted
// in Ignored State, one "state (count)" per state, comma-separated
// (nmap has one ignored state; a scan may leave out several). Hosts
// found down get a Status: Down line when Options.ShowDown is set. A
// host whose MAC address is known has one more field on its Status
// line, which nmap's format lacks: "MAC: 00:00:0C:12:34:56 (VENDOR)",
// VENDOR empty when unknown and escaped as a name is.
//
// Bytes that come from catalogs, target lists or the network cannot
// break the layout: in a name, service or version, each control
// character, byte that is not UTF-8, backslash and separator of its
// field ("(" and ")" in the name, "/" and "," in a port entry) is
// written \xHH, so the field reads back exactly.
//
// # html
//
// html output is one self-contained page for a browser (see package
// internal/htmlpage for its shell: inline style sheet and script, a
// Content-Security-Policy that forbids every request). It is written as
// it goes, as text is: the head and the filters at Begin, each host's
// table at its Host call, in target order (holding back at most
// 1024 finished hosts, as text does), then at End the summary, a bar
// chart of open ports by service and a heat map of hosts by ports, which
// the style sheet shows above the hosts. Each host is a table of its
// own (so that a browser lays out only the hosts in view as the page
// opens), with the columns' header and a row group headed by the host
// (its status, latency and "not shown" counts), and a row per listed
// port, which names no host (sorting, the script lists all hosts' rows
// in one table with a Host column): port, state, service
// with its catalog description (on a line of its own) in the
// language of text output (or, when detection names another service,
// that one marked "*" with the catalog's label), reason, version, the
// TLS certificate's expiry (marked when it has expired or expires within
// 30 days of the probe); captures have the evidence instead of the
// certificate: flows, clients, packets and bytes each way, first and
// last seen. The optional columns (version, certificate) come last, and
// a row leaves out their cells when it has nothing for them, which the
// script then hides; a page of many rows parses the faster for it. Which ports and hosts are listed follows Options as for
// text. The page's script sorts the rows by any column and filters them
// by text, state and service; without it the page reads the same.
//
// What the writer keeps for End is bounded, whatever the run's size: a
// count of open ports per service name (1024 names; the rest count as
// "other"), a count of hosts per port (at most every port of both
// protocols), and for the heat map the listed open and open|filtered
// ports of the first 128 hosts that have any to finish (4096 each), drawn
// in target order. The page continues a resumed run as text does
// (Continue; its State is an HTMLState). The chart draws
// the 20 services with the most open ports, the heat map the 48 ports
// open on the most hosts; each says what it leaves out. Every string
// from the network, a capture, a catalog or the command line is escaped
// (internal/htmlpage.Clean, then html/template).
//
// # text
//
// text output is meant for people and may change: a block per host like
// nmap's, with a PORT STATE SERVICE [REASON] [VERSION] DESCRIPTION table
// aligned in terminal cells, and a closing summary line. With
// Options.Reason, a reason whose reply's TTL is known is followed by it,
// as nmap's --reason prints it: "syn-ack ttl 63" in the REASON column,
// "Host is up, received echo-reply ttl 63" for the host; a port's reason
// an ICMP error from a router gave names it before the TTL, as nmap's
// does: "admin-prohibited from 198.18.1.1 ttl 63". VERSION is
// there when service detection ran on the host: product, version and
// (info), as nmap prints it. A service detection named other than the
// catalog's label replaces it in SERVICE, marked "*" (and coloured), with
// a legend line after the table; so does a warning for each TLS
// certificate that has expired or expires within 30 days of the probe.
// A host whose MAC address is known ends its block with nmap's line
// "MAC Address: 00:00:0C:12:34:56 (VENDOR)", VENDOR "Unknown" when the
// registry names none.
//
// # Going on in another run
//
// A scan stopped and resumed (portscan --resume) goes on writing the
// files it began. At a checkpoint, between two events, each file ends
// where its Writer stopped writing, and [Snapshot] takes the little the
// Writer holds besides: a json document's host count, a text report's
// down-host counts and the reports it holds back for target order.
// The next run truncates the file there and makes a Writer with
// [Continue], which writes no head again and closes the document at
// its End: jsonl and csv append lines, json goes on with its "hosts"
// array, xml inside <nmaprun>, text with the next host's report.
// [Restore] gives it the ports already written or buffered of the hosts
// that were in flight, so that each gets one whole record. Given the
// same events, a document stopped and continued is byte for byte the
// one written in one go.
package output
