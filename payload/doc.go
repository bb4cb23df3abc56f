// Package payload holds the datagrams that the UDP scan sends to ports whose
// services answer only a well-formed request, and the matchers that tell
// an answer to that request from any other datagram.
//
// An empty datagram draws no answer from most UDP services, so the port
// looks open|filtered whether a service listens or not. A request the
// service understands draws a reply, and the port is open. Every payload is
// built in code from the document that defines it; none is copied from
// another scanner. Where the reply must echo something of the request (an
// id, a cookie, a timestamp), the seed given to For fills it with random
// bits and Match checks it, and says so in its reason
// ("dns-response id match"); otherwise Match checks the reply's shape
// ("rip-response") or accepts any datagram ("udp-response").
//
//	port  probe                  request                                reply checked by
//	7     echo                   RFC 862: a random token                the same bytes
//	11    systat                 RFC 866: empty datagram                any datagram
//	13    daytime                RFC 867: empty datagram                any datagram
//	17    qotd                   RFC 865: empty datagram                any datagram
//	19    chargen                RFC 864: empty datagram                any datagram
//	37    time                   RFC 868: empty datagram                4 bytes
//	53    dns-version-bind       RFC 1035 §4.1: version.bind CH TXT     id
//	67    dhcp-inform            RFC 2131 §4.4.3: DHCPINFORM            xid (reply goes to port 68)
//	69    tftp-rrq               RFC 1350 §5: read request              opcode (reply from another port)
//	88    kerberos-as-req        RFC 4120 §5.4.1: AS-REQ                AS-REP or KRB-ERROR, pvno 5
//	111   rpc-portmap-null       RFC 5531 §9, RFC 1833 §3.2: NULL call  xid
//	123   ntp-client             RFC 5905 §7.3: mode 3                  origin timestamp
//	137   nbns-node-status       RFC 1002 §4.2.17: node status of "*"   id
//	161   snmp-v1-get            RFC 1157 §4.1.2: get sysDescr.0        request-id
//	161   snmp-v2c-get           RFC 1901 §3, RFC 3416: the same        request-id
//	161   snmp-v3-discovery      RFC 3414 §4: engine id discovery       msgID
//	177   xdmcp-query            XDMCP 1.1 (X Consortium): Query        Willing or Unwilling
//	389   cldap-rootdse          RFC 4511 §4.5.1: root DSE search       messageID
//	427   slp-srvrqst            RFC 2608 §8.1: service request         XID
//	500   ikev2-sa-init          RFC 7296 §1.2: IKE_SA_INIT             initiator SPI
//	500   ikev1-main-mode        RFC 2409 §5: main mode, message 1      initiator cookie
//	514   syslog                 RFC 5424 §6, RFC 5426: one message     any datagram (none expected)
//	520   rip-request            RFC 2453 §3.9.1: whole-table request   response, version 1 or 2
//	521   ripng-request          RFC 2080 §2.4.1: whole-table request   response, version 1
//	547   dhcpv6-solicit         RFC 8415 §18.2.1: Solicit              transaction id
//	1645  radius-access-request  RFC 2865 §4.1: Access-Request          identifier
//	1701  l2tp-sccrq             RFC 2661 §6.1: SCCRQ                   assigned tunnel id
//	1812  radius-access-request  RFC 2865 §4.1: Access-Request          identifier
//	2049  rpc-nfs-null           RFC 5531 §9, RFC 1813 §3.3.0: NULL     xid
//	3130  icp-query              RFC 2186 §2: ICP_OP_QUERY              request number
//
// Ports with several probes (SNMP, IKE) get each in turn; a port that is
// not listed gets an empty datagram.
//
// Some services answer elsewhere than from the probed port, or only to
// some source ports. A TFTP server replies from a new port (RFC 1350 §4).
// DHCP servers send to the client port, 68 or 546 (RFC 2131 §4.1, RFC 8415
// §7.2), and strongSwan ignores IKE requests that do not come from port
// 500: Probe.SourcePort names the port such a request should leave from.
// RADIUS servers drop requests from clients they do not know (RFC 2865 §3)
// and syslog never answers; their probes mostly tell closed (ICMP port
// unreachable) from open|filtered.
//
// Left out on purpose: kpasswd (464) needs a Kerberos ticket before it says
// anything (RFC 3244), SNMP traps (162) are never answered, and the
// services that have no RFC request (Microsoft SQL Server's browser on
// 1434, H.323 RAS, AFS) are not in this list.
package payload
