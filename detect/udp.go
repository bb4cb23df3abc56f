package detect

import (
	"fmt"
	"strings"

	"github.com/portscan/portscan/internal/ber"
	"github.com/portscan/portscan/payload"
	"github.com/portscan/portscan/result"
)

// UDP services: the replies to package payload's requests, named in
// nmap's vocabulary. Payload's matchers already tell an answer from a
// stray datagram (ids echoed, shapes checked); detection reuses them and
// only adds what a reply says of its product.

// udpServices names the service each payload probe speaks to.
var udpServices = map[string]string{
	"echo": "echo", "systat": "systat", "daytime": "daytime", "qotd": "qotd",
	"chargen": "chargen", "time": "time", "syslog": "syslog",
	"dns-version-bind":      "domain",
	"dhcp-inform":           "dhcps",
	"dhcpv6-solicit":        "dhcpv6-server",
	"tftp-rrq":              "tftp",
	"kerberos-as-req":       "kerberos-sec",
	"rpc-portmap-null":      "rpcbind",
	"rpc-nfs-null":          "nfs",
	"ntp-client":            "ntp",
	"nbns-node-status":      "netbios-ns",
	"snmp-v1-get":           "snmp",
	"snmp-v2c-get":          "snmp",
	"snmp-v3-discovery":     "snmp",
	"xdmcp-query":           "xdmcp",
	"cldap-rootdse":         "ldap",
	"slp-srvrqst":           "svrloc",
	"ikev2-sa-init":         "isakmp",
	"ikev1-main-mode":       "isakmp",
	"rip-request":           "route",
	"ripng-request":         "ripng",
	"radius-access-request": "radius",
	"l2tp-sccrq":            "l2tp",
	"icp-query":             "icp",
}

// udpReaders read the product, version and facts a reply carries, and
// check its shape where the request's ids are not known.
var udpReaders = map[string]func(reply []byte) (result.Service, bool){
	"domain": func(b []byte) (result.Service, bool) {
		s, ok, _ := dnsService(b, 0)
		return s, ok
	},
	"ntp":        ntpReply,
	"snmp":       snmpReply,
	"netbios-ns": nbnsReply,
	"ldap": func(b []byte) (result.Service, bool) {
		s, ok, _ := matchLDAP(b)
		return s, ok
	},
}

// UDP names the service that sent reply, a datagram from UDP port.
//
// sent are the payload probes sent to the port (payload.For with the
// scan's seed): the one whose Match accepts reply names the service,
// with confidence 10 when it checked an id the request carried, 8 when
// it checked the reply's shape, 3 when any datagram would do (daytime,
// chargen). With no probes (a capture, where the request's ids are not
// known), the port's payload protocols are tried by the shape of their
// reply alone, for those detection can check (DNS, NTP, SNMP, NetBIOS
// name service, CLDAP), at confidence 7.
func UDP(port uint16, sent []payload.Probe, reply []byte) (result.Service, bool) {
	if len(sent) == 0 {
		for _, p := range payload.For(port, 0) {
			name := udpServices[p.Name]
			if read := udpReaders[name]; read != nil {
				if s, ok := read(reply); ok {
					s.Name, s.Confidence = name, 7
					return s, true
				}
			}
		}
		return result.Service{}, false
	}
	for _, p := range sent {
		ok, reason := p.Match(reply)
		if !ok {
			continue
		}
		name := udpServices[p.Name]
		if name == "" {
			return result.Service{}, false
		}
		svc := result.Service{Name: name, Confidence: 8}
		if read := udpReaders[name]; read != nil {
			if s, ok := read(reply); ok {
				svc = s
			}
		}
		svc.Name = name
		switch {
		case reason == payload.ReasonUDPResponse:
			svc.Confidence = 3
		case strings.HasSuffix(reason, " match"):
			svc.Confidence = 10
		default:
			svc.Confidence = 8
		}
		return svc, true
	}
	return result.Service{}, false
}

// ntpReply reads an NTP server's reply (RFC 5905 §7.3): mode 4 (server)
// or 5 (broadcast), its version and stratum. The reply names no product.
func ntpReply(b []byte) (result.Service, bool) {
	if len(b) < 48 {
		return result.Service{}, false
	}
	mode, version, stratum := b[0]&7, b[0]>>3&7, b[1]
	if (mode != 4 && mode != 5) || version < 1 || version > 4 {
		return result.Service{}, false
	}
	info := fmt.Sprintf("NTP v%d", version)
	switch {
	case stratum == 0:
		info += ", kiss code " + cleanBytes(b[12:16], 4)
	case stratum >= 16:
		info += ", unsynchronized"
	default:
		info += fmt.Sprintf(", stratum %d", stratum)
	}
	return result.Service{Name: "ntp", Info: info}, true
}

// snmpReply reads an SNMP reply (RFC 3416 §3; RFC 3412 §6 for v3): the
// version, the sysDescr.0 a GetResponse carries, and the enterprise of
// a v3 engine id (RFC 3411 §5, SnmpEngineID), which names net-snmp.
func snmpReply(b []byte) (result.Service, bool) {
	top := ber.Reader{B: b}
	t, msg, ok := top.Next()
	if !ok || t != 0x30 {
		return result.Service{}, false
	}
	w := ber.Reader{B: msg}
	t, v, ok := w.Next()
	if !ok || t != 0x02 || len(v) != 1 || v[0] > 3 || v[0] == 2 {
		return result.Service{}, false
	}
	svc := result.Service{Name: "snmp"}
	if v[0] == 3 {
		svc.Info = "SNMPv3"
		if t, _, ok := w.Next(); !ok || t != 0x30 { // HeaderData
			return result.Service{}, false
		}
		t, sec, ok := w.Next()
		if !ok || t != 0x04 {
			return result.Service{}, false
		}
		sw := ber.Reader{B: sec}
		if t, usm, ok := sw.Next(); ok && t == 0x30 {
			uw := ber.Reader{B: usm}
			if t, id, ok := uw.Next(); ok && t == 0x04 && len(id) >= 5 && id[0]&0x80 != 0 {
				ent := uint32(id[0]&0x7f)<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3])
				switch ent {
				case 8072:
					svc.Product = "net-snmp"
					svc.CPE = cpe("net-snmp", "net-snmp", "")
				case 9:
					svc.Product = "Cisco SNMP service"
				case 311:
					svc.Product = "Microsoft SNMP service"
				default:
					svc.Info = joinInfo(svc.Info, fmt.Sprintf("enterprise %d", ent))
				}
			}
		}
		return svc, true
	}
	svc.Info = map[byte]string{0: "SNMPv1", 1: "SNMPv2c"}[v[0]]
	if t, _, ok := w.Next(); !ok || t != 0x04 { // community
		return result.Service{}, false
	}
	t, pdu, ok := w.Next()
	if !ok || t != 0xa2 {
		return result.Service{}, false
	}
	pw := ber.Reader{B: pdu}
	for i := 0; i < 3; i++ { // request-id, error-status, error-index
		if t, _, ok := pw.Next(); !ok || t != 0x02 {
			return result.Service{}, false
		}
	}
	t, list, ok := pw.Next()
	if !ok || t != 0x30 {
		return svc, true
	}
	lw := ber.Reader{B: list}
	if t, vb, ok := lw.Next(); ok && t == 0x30 {
		vw := ber.Reader{B: vb}
		ot, oid, ok1 := vw.Next()
		vt, val, ok2 := vw.Next()
		// sysDescr.0 is 1.3.6.1.2.1.1.1.0.
		if ok1 && ok2 && ot == 0x06 && string(oid) == "\x2b\x06\x01\x02\x01\x01\x01\x00" && vt == 0x04 {
			svc.Info = joinInfo(svc.Info, cleanBytes(val, maxText))
		}
	}
	return svc, true
}

// nbnsReply reads a NODE STATUS RESPONSE (RFC 1002 §4.2.18): the node's
// name table, whose unique workstation name (suffix 0x00) is the host's
// NetBIOS name and whose group name of suffix 0x00 its workgroup.
func nbnsReply(b []byte) (result.Service, bool) {
	m := octets(b)
	if len(b) < 12 || b[2]&0x80 == 0 || b[2]>>3&0x0f != 0 {
		return result.Service{}, false
	}
	an, _ := m.be16(6)
	if an != 1 {
		return result.Service{}, false
	}
	_, n, ok := dnsName(m, 12)
	if !ok {
		return result.Service{}, false
	}
	off := 12 + n
	typ, ok1 := m.be16(off)
	rdlen, ok2 := m.be16(off + 8)
	rdata, ok3 := m.span(off+10, int(rdlen))
	if !ok1 || !ok2 || !ok3 || typ != 0x21 || len(rdata) < 1 {
		return result.Service{}, false
	}
	svc := result.Service{Name: "netbios-ns"}
	var host, group string
	count := int(rdata[0])
	for i := 0; i < count; i++ {
		e, ok := octets(rdata).span(1+18*i, 18)
		if !ok {
			break
		}
		name := strings.TrimRight(cleanBytes(e[:15], 15), " ")
		suffix, flags := e[15], uint16(e[16])<<8|uint16(e[17])
		if suffix != 0 || name == "" {
			continue
		}
		if flags&0x8000 != 0 {
			if group == "" {
				group = name
			}
		} else if host == "" {
			host = name
		}
	}
	if host != "" {
		svc.Info = "NetBIOS name: " + host
	}
	if group != "" {
		svc.Info = joinInfo(svc.Info, "workgroup: "+group)
	}
	return svc, true
}
