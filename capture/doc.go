// Package capture reads packet captures and tells, from their traffic,
// which server ports were open or closed: the offline counterpart of a
// scan, in the same result.Port schema with Source "pcap".
//
// # Analysing
//
// [Analyze] is the entry point: it reads named sources ([File], [Stream])
// in order as one capture through Reader, Decoder and Analyzer, and
// emits the run to a result.Sink, Begin to End, with the capture's
// counts in the summary. Its options add the tcpdump-like packet lines
// ([AppendLine]) and the annotated pcapng copy ([Annotator]). A source
// that fails does not stop the others: its [*SourceError] wraps the
// [*ReadError] that says where it broke (or [ErrNotCapture]), and the
// packets before it stand. Analyze honours its context between packets.
// "portscan pcap", and the result files of "portscan diff", "audit
// --from" and "--baseline" that are captures, all go through it; the
// types below are its parts, for callers that drive them by hand.
//
// # Reading
//
// Reader reads pcap (microsecond or nanosecond time stamps, either byte
// order) and pcapng (any number of sections and interfaces, each with its
// own link type) with gopacket's pure-Go pcapgo readers, gzip-compressed
// or not, without an allocation per packet (but two bytes a packet on a
// pcapng interface whose link type number is 256 or more, such as Linux
// cooked v2: pcapgo boxes it in an interface value). A damaged file yields a
// *ReadError with the packet number and byte offset where it broke;
// everything before it has been returned. pcapng blocks that hold no
// packet (interface statistics, as dumpcap and tshark write at the end of
// every file, name resolution, decryption secrets, custom blocks, new
// sections) may come anywhere, after the last packet too; only a block
// cut short is damage, and its *ReadError names its type.
//
// Decoder reads Ethernet (with 802.1Q and QinQ tags), Linux cooked v1 and
// v2, raw IPv4 and IPv6, and BSD loopback frames; IPv4 and IPv6 with
// extension headers; TCP, UDP, and ICMP and ICMPv6 destination
// unreachables quoting TCP or UDP. It uses gopacket's DecodingLayerParser
// over preallocated layers, so that decoding allocates nothing (but for
// the options of an IPv6 hop-by-hop header, which gopacket's IPv6 layer
// allocates one by one). Anything else is skipped and counted by reason,
// never an error.
//
// # Evidence
//
// Analyzer follows each TCP connection and UDP conversation (a flow) and,
// when the flow ends, files what it showed under its server's address,
// port and protocol:
//
//	SYN-ACK answering a SYN                        open      syn-ack
//	RST answering a SYN                            closed    reset
//	server segments, handshake before the capture  open      mid-stream
//	a UDP reply from the port the client sent to   open      udp-response
//	ICMP port unreachable from the server itself   closed    port-unreach
//	other ICMP unreachables, or from a router      filtered  host-unreach, admin-prohibited...
//	a SYN that nothing answered                    filtered  no-response
//	UDP datagrams that nothing answered            open|filtered no-response
//
// (UDP datagrams nothing answered are not reported for an uncatalogued
// port of 32768 or above: such one-way traffic is far more often the
// tail of a conversation that moved ports, as TFTP and RTP do.)
//
// When flows to one service disagree the strongest evidence wins, in the
// order of that table.
//
// The server is the side that received the SYN or sent the SYN-ACK, or
// the side an ICMP error reports unreachable. For UDP it is the side that
// received the first datagram, unless that datagram came from a port
// below 1024 or in the catalog to an uncatalogued port of 32768 or above,
// or from 67 to 68 (DHCP) or 547 to 546 (DHCPv6): then it was a reply to
// a request sent before the capture began. A reply may also come from
// and go to other addresses than the request, when the request went to a
// broadcast or multicast address: a datagram that opens a flow from the
// port such a request went to, within IdleTimeout, to the port it came
// from (at the address it came from, at any address if it came from
// 0.0.0.0 or ::, or at a group address between unequal ports) answers
// it, and its sender is the server. So a DHCP server answering a DISCOVER
// from 0.0.0.0:68 to 255.255.255.255:67 is found on 67, and the client's
// 68 is not reported; the same for DHCPv6 from 546 to ff02::1:2 port 547. A TCP
// flow whose handshake was not captured gets the reason mid-stream, which
// says the server was chosen from the ports: the one the catalog knows,
// else the one below 1024, else the lower one.
//
// # Bounds
//
// Flows idle for Options.IdleTimeout of capture time are evicted and
// their evidence finalised; the flow table holds at most
// Options.MaxFlows flows, evicting the least recently active when full;
// the service table holds at most Options.MaxServices services. Counters
// tell how many flows each bound cut short. Distinct clients are counted
// exactly up to ExactClients per service and estimated above, in a fixed
// kilobyte. Memory is thus flat however long the capture.
//
// Addresses are handled as IPv6 internally; an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is reported as the IPv4 address.
package capture
