// Package raw is portscan's raw packet layer, for the scans and host
// discovery that need privileges: it sends whole frames and receives
// only what a kernel BPF filter lets through, and finds out where a
// packet to a destination goes. It is pure Go (no libpcap, no cgo) and
// Linux only.
//
//   - [Conn] is an AF_PACKET socket bound to one interface. It sends
//     frames in batches (sendmmsg) and receives them in batches
//     (recvmmsg), each frame whole, link header included. Nothing
//     reaches it before [Conn.SetFilter] attaches a filter, and frames
//     the host sends itself never do.
//   - [Filter] assembles the classic BPF program that passes replies to
//     a run: TCP segments to its source ports, ICMP and ICMPv6 errors
//     quoting its TCP probes, and (for neighbour resolution) ARP replies
//     and neighbour advertisements. [PingFilter] passes the answers to
//     host discovery: ARP replies and neighbour advertisements, echo and
//     timestamp replies to a run's identifier, and TCP, UDP and the ICMP
//     errors that quote them, to a run's ports.
//   - [Netlink] asks the kernel's routing tables: the route, source
//     address and interface of a destination ([Netlink.Route]), an
//     interface's link type and address ([Netlink.Link]), and the
//     neighbour table ([Netlink.Neighbors]).
//   - A [Builder] builds frames (TCP segments, ARP requests, neighbour
//     solicitations, ICMP echo and timestamp requests, UDP datagrams) with
//     gopacket's layers; a [Decoder] reads the replies into a [Packet]
//     with gopacket's DecodingLayerParser, and never panics on what it
//     is given.
//   - [ResolveMAC] finds the link address of a next hop: from the
//     kernel's neighbour table, else by asking with ARP or NDP.
//
// Loopback works as Ethernet with zero addresses: frames sent on lo come
// back in as received, as the kernel's own replies do.
//
// Opening a Conn needs CAP_NET_RAW (root has it): without it, [Open] and
// [Check] return an error that matches [ErrPermission].
package raw
