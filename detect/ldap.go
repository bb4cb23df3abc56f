package detect

import (
	"strings"

	"github.com/portscan/portscan/internal/ber"
	"github.com/portscan/portscan/result"
)

// LDAP (RFC 4511). The probe is an anonymous search of the root DSE (RFC
// 4512 §5.1), which servers answer without a bind, for the attributes
// that say what the server is: its naming contexts, the vendor
// attributes of RFC 3045, OpenLDAP's object class and Active Directory's
// forestFunctionality. Any LDAPMessage in answer names "ldap".
func init() {
	Register(&Protocol{
		Name:         "ldap",
		Ports:        []uint16{389, 3268},
		Probe:        ldapProbe,
		Match:        matchLDAP,
		MatchRequest: matchLDAPRequest,
	})
	Register(&Protocol{
		Name:  "ldaps",
		Ports: []uint16{636, 3269},
		Probe: ldapProbe,
		Match: matchLDAP,
		TLS:   true,
	})
}

// LDAP protocol operations (RFC 4511 §4.2 to §4.12): [APPLICATION n],
// constructed.
const (
	ldapBindRequest      = 0x60
	ldapBindResponse     = 0x61
	ldapSearchRequest    = 0x63
	ldapSearchEntry      = 0x64
	ldapSearchDone       = 0x65
	ldapSearchReference  = 0x73
	ldapExtendedRequest  = 0x77
	ldapExtendedResponse = 0x78
)

// ldapAttributes are those the probe asks of the root DSE.
var ldapAttributes = []string{
	"objectClass", "namingContexts", "vendorName", "vendorVersion",
	"forestFunctionality", "defaultNamingContext",
}

func ldapProbe(string) []byte {
	var attrs []byte
	for _, a := range ldapAttributes {
		attrs = append(attrs, ber.String(0x04, a)...)
	}
	search := ber.TLV(ldapSearchRequest,
		ber.String(0x04, ""),            // baseObject: the root DSE
		ber.TLV(0x0a, []byte{0}),        // scope baseObject
		ber.TLV(0x0a, []byte{0}),        // derefAliases neverDerefAliases
		ber.TLV(0x02, []byte{0}),        // sizeLimit
		ber.TLV(0x02, []byte{0}),        // timeLimit
		ber.TLV(0x01, []byte{0}),        // typesOnly FALSE
		ber.String(0x87, "objectClass"), // Filter present [7]
		ber.TLV(0x30, attrs),
	)
	return ber.TLV(0x30, ber.TLV(0x02, []byte{1}), search)
}

// ldapResultCodes names the resultCodes of RFC 4511 §4.1.9 that a root
// DSE search or an unsolicited notice gets.
var ldapResultCodes = map[int64]string{
	0: "success", 1: "operationsError", 2: "protocolError", 8: "strongerAuthRequired",
	13: "confidentialityRequired", 48: "inappropriateAuthentication",
	49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy",
	52: "unavailable", 53: "unwillingToPerform", 80: "other",
}

func matchLDAP(got []byte) (result.Service, bool, bool) {
	tag, hdr, n, st := ber.Head(got)
	if st == ber.Short {
		return result.Service{}, false, len(got) == 0 || got[0] == 0x30
	}
	if st == ber.Bad || tag != 0x30 || n < 5 {
		return result.Service{}, false, false
	}
	msg := got[hdr:min(len(got), hdr+n)]
	// messageID INTEGER (0 to 2^31-1).
	t, h, l, st := ber.Head(msg)
	switch {
	case st == ber.Short || (st == ber.OK && l > len(msg)-h):
		return result.Service{}, false, true
	case st == ber.Bad || t != 0x02 || l < 1 || l > 4:
		return result.Service{}, false, false
	}
	id, _ := ber.IntValue(msg[h : h+l])
	if id < 0 {
		return result.Service{}, false, false
	}
	op := msg[h+l:]
	t, h, l, st = ber.Head(op)
	switch {
	case st == ber.Short:
		return result.Service{}, false, true
	case st == ber.Bad:
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "ldap", Confidence: 10}
	content := op[h:min(len(op), h+l)]
	switch t {
	case ldapSearchEntry:
		ldapRootDSE(&svc, content)
	case ldapBindResponse, ldapSearchDone, ldapExtendedResponse:
		// LDAPResult: resultCode ENUMERATED first (§4.1.9).
		w := ber.Reader{B: content}
		if rt, rc, ok := w.Next(); ok && rt == 0x0a {
			if code, ok := ber.IntValue(rc); ok {
				if name := ldapResultCodes[code]; name != "" && code != 0 {
					svc.Info = name
				}
			}
		} else if ok && rt != 0x0a {
			return result.Service{}, false, false
		}
	case ldapSearchReference:
	default:
		return result.Service{}, false, false
	}
	return svc, true, false
}

// ldapRootDSE reads the attributes of a SearchResultEntry (RFC 4511
// §4.5.2) of the root DSE into svc.
func ldapRootDSE(svc *result.Service, entry []byte) {
	w := ber.Reader{B: entry}
	if t, _, ok := w.Next(); !ok || t != 0x04 { // objectName
		return
	}
	t, list, ok := w.Next()
	if !ok || t != 0x30 {
		return
	}
	attrs := map[string][]string{}
	lw := ber.Reader{B: list}
	for i := 0; i < 64; i++ {
		t, pa, ok := lw.Next()
		if !ok || t != 0x30 {
			break
		}
		aw := ber.Reader{B: pa}
		tt, typ, ok1 := aw.Next()
		st, set, ok2 := aw.Next()
		if !ok1 || !ok2 || tt != 0x04 || st != 0x31 {
			continue
		}
		name := strings.ToLower(cleanBytes(typ, 64))
		vw := ber.Reader{B: set}
		for j := 0; j < 16; j++ {
			vt, v, ok := vw.Next()
			if !ok || vt != 0x04 {
				break
			}
			attrs[name] = append(attrs[name], cleanBytes(v, maxText))
		}
	}
	first := func(name string) string {
		if vs := attrs[name]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	switch {
	case len(attrs["forestfunctionality"]) > 0:
		svc.Product = "Microsoft Windows Active Directory LDAP"
		if d := first("defaultnamingcontext"); d != "" {
			svc.Info = "Domain: " + dnToDomain(d)
		}
		return
	case first("vendorversion") != "":
		p, v, _ := productToken(first("vendorversion"))
		if versionish(v) {
			svc.Product, svc.Version = p, v
		} else {
			svc.Product = first("vendorversion")
		}
	case first("vendorname") != "":
		svc.Product = first("vendorname")
	}
	for _, oc := range attrs["objectclass"] {
		if strings.EqualFold(oc, "OpenLDAProotDSE") {
			svc.Product = "OpenLDAP"
		}
	}
	if nc := attrs["namingcontexts"]; len(nc) > 0 {
		svc.Info = cleanBytes([]byte("namingContexts: "+strings.Join(nc[:min(len(nc), 4)], ", ")), maxText)
	}
}

// dnToDomain turns "DC=corp,DC=example,DC=com" into "corp.example.com".
func dnToDomain(dn string) string {
	var parts []string
	for _, rdn := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(k, "DC") {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return dn
	}
	return strings.Join(parts, ".")
}

// matchLDAPRequest reads an LDAPMessage carrying a bind, a search or an
// extended request (StartTLS).
func matchLDAPRequest(sent []byte) (result.Service, bool) {
	tag, hdr, n, st := ber.Head(sent)
	if st != ber.OK || tag != 0x30 || n < 5 {
		return result.Service{}, false
	}
	w := ber.Reader{B: sent[hdr:min(len(sent), hdr+n)]}
	t, id, ok := w.Next()
	if !ok || t != 0x02 || len(id) > 4 {
		return result.Service{}, false
	}
	t, op, ok := w.Next()
	if !ok {
		return result.Service{}, false
	}
	switch t {
	case ldapBindRequest:
		// version INTEGER (1..127), 3 for LDAPv3 (§4.2).
		ow := ber.Reader{B: op}
		if vt, v, ok := ow.Next(); !ok || vt != 0x02 || len(v) != 1 || v[0] < 2 || v[0] > 3 {
			return result.Service{}, false
		}
	case ldapSearchRequest, ldapExtendedRequest:
	default:
		return result.Service{}, false
	}
	return result.Service{Name: "ldap", Confidence: 8}, true
}
