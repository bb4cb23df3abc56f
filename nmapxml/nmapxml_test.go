package nmapxml

import (
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
)

// A host as nmap -sV -O writes it, with elements the model skips (os,
// times' siblings) and a script with a table.
const nmapHost = `<host starttime="1700000000" endtime="1700000009"><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="198.18.0.1" addrtype="ipv4"/>
<address addr="02:00:00:00:00:01" addrtype="mac" vendor="Acme Lab"/>
<hostnames>
<hostname name="web1.lab" type="user"/>
<hostname name="web1.lab.example" type="PTR"/>
</hostnames>
<ports><extraports state="closed" count="998">
<extrareasons reason="reset" count="998" proto="tcp" ports="1-21,23-79,81-1000"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" product="OpenSSH" version="9.6p1 Ubuntu 3ubuntu13" extrainfo="Ubuntu Linux; protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.6p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service><script id="ssh-hostkey" output="256 aa:bb (ED25519)"><table><elem key="type">ssh-ed25519</elem></table></script></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="http" product="nginx" tunnel="ssl" method="probed" conf="10"/></port>
</ports>
<os><osmatch name="Linux 5.x" accuracy="100" line="1"/></os>
<times srtt="45" rttvar="20" to="100000"/>
</host>`

func TestDecodeNmapHost(t *testing.T) {
	var h Host
	if err := xml.Unmarshal([]byte(nmapHost), &h); err != nil {
		t.Fatal(err)
	}
	want := Host{
		XMLName:   xml.Name{Local: "host"},
		StartTime: "1700000000", EndTime: "1700000009",
		Status:    Status{State: "up", Reason: "arp-response", ReasonTTL: "0"},
		Addresses: []Address{{Addr: "198.18.0.1", AddrType: "ipv4"}, {Addr: "02:00:00:00:00:01", AddrType: "mac", Vendor: "Acme Lab"}},
		Hostnames: &Hostnames{Hostname: []Hostname{{"web1.lab", "user"}, {"web1.lab.example", "PTR"}}},
		Ports: &Ports{
			Extra: []ExtraPorts{{State: "closed", Count: "998", Reasons: []ExtraReasons{{Reason: "reset", Count: "998", Proto: "tcp", Ports: "1-21,23-79,81-1000"}}}},
			Port: []Port{{
				Protocol: "tcp", PortID: "22", State: State{State: "open", Reason: "syn-ack", ReasonTTL: "64"},
				Service: &Service{Name: "ssh", Method: "probed", Conf: "10", Product: "OpenSSH", Version: "9.6p1 Ubuntu 3ubuntu13",
					ExtraInfo: "Ubuntu Linux; protocol 2.0", OSType: "Linux", CPE: []string{"cpe:/a:openbsd:openssh:9.6p1", "cpe:/o:linux:linux_kernel"}},
				Scripts: []Script{{ID: "ssh-hostkey", Output: "256 aa:bb (ED25519)"}},
			}, {
				Protocol: "tcp", PortID: "443", State: State{State: "open", Reason: "syn-ack", ReasonTTL: "64"},
				Service: &Service{Name: "http", Method: "probed", Conf: "10", Product: "nginx", Tunnel: "ssl"},
			}},
		},
		Times: &Times{SRTT: "45", RTTVar: "20", To: "100000"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", h, want)
	}
	// Written again and read back, the host is the same.
	out, err := xml.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var again Host
	if err := xml.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, h) {
		t.Errorf("round trip changed the host:\n%s", out)
	}
}

// TestOmitted checks that what nmap leaves out is left out: a table
// service carries no product, a host without ports writes no <ports>.
func TestOmitted(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"table service", Port{Protocol: "tcp", PortID: "22", State: State{State: "open", Reason: "syn-ack", ReasonTTL: "0"},
			Service: &Service{Name: "ssh", Method: "table", Conf: "3"}},
			`<Port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"></state><service name="ssh" method="table" conf="3"></service></Port>`},
		{"down host", Host{Status: Status{State: "down", Reason: "no-response", ReasonTTL: "0"}, Addresses: []Address{{Addr: "::1", AddrType: "ipv6"}}},
			`<host><status state="down" reason="no-response" reason_ttl="0"></status><address addr="::1" addrtype="ipv6"></address></host>`},
		{"port comment", Port{Protocol: "udp", PortID: "53", State: State{State: "open", Reason: "udp-response", ReasonTTL: "0"},
			Service: &Service{Name: "domain", Method: "table", Conf: "3"}, Comment: " domain: Domain Name System "},
			`<Port protocol="udp" portid="53"><state state="open" reason="udp-response" reason_ttl="0"></state><service name="domain" method="table" conf="3"></service><!-- domain: Domain Name System --></Port>`},
		{"finished", Finished{Time: "0", Elapsed: "0.00"}, `<Finished time="0" elapsed="0.00"></Finished>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := xml.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("got  %s\nwant %s", out, tc.want)
			}
		})
	}
}

func TestStartTag(t *testing.T) {
	r := Run{Scanner: "nmap", Args: `nmap -oX - "a&b"`, Start: "1700000000", StartStr: "Tue Nov 14 22:13:20 2023",
		Version: "7.94", XMLOutputVersion: "1.05", Hosts: []Host{{}}, Verbose: &Level{Level: "1"}}
	se, err := r.StartTag()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range se.Attr {
		names = append(names, a.Name.Local+"="+a.Value)
	}
	want := `scanner=nmap args=nmap -oX - "a&b" start=1700000000 startstr=Tue Nov 14 22:13:20 2023 version=7.94 xmloutputversion=1.05`
	if se.Name.Local != "nmaprun" || strings.Join(names, " ") != want {
		t.Errorf("start tag <%s %s>, want <nmaprun %s>", se.Name.Local, strings.Join(names, " "), want)
	}
	var back Run
	if err := back.DecodeStartTag(se); err != nil {
		t.Fatal(err)
	}
	want2 := Run{XMLName: xml.Name{Local: "nmaprun"}, Scanner: r.Scanner, Args: r.Args, Start: r.Start, StartStr: r.StartStr, Version: r.Version, XMLOutputVersion: r.XMLOutputVersion}
	if !reflect.DeepEqual(back, want2) {
		t.Errorf("DecodeStartTag = %+v, want %+v", back, want2)
	}
}

// TestStylesheet checks the xml-stylesheet instruction: nmap's form, and
// an href that would end the value or the instruction comes back whole.
func TestStylesheet(t *testing.T) {
	for _, tc := range []struct{ name, href, want string }{
		{"nmap's", "file:///usr/share/nmap/nmap.xsl", `<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>`},
		{"web", WebStylesheet, `<?xml-stylesheet href="https://nmap.org/svn/docs/nmap.xsl" type="text/xsl"?>`},
		{"quote and end", `x.xsl" type="text/css"?><a b="&`, `<?xml-stylesheet href="x.xsl&#34; type=&#34;text/css&#34;?&gt;&lt;a b=&#34;&amp;" type="text/xsl"?>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			enc := xml.NewEncoder(&b)
			if err := enc.EncodeToken(Stylesheet(tc.href)); err != nil {
				t.Fatal(err)
			}
			if err := enc.Flush(); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %s\nwant %s", b.String(), tc.want)
			}
			tok, err := xml.NewDecoder(strings.NewReader(b.String())).Token()
			if err != nil {
				t.Fatal(err)
			}
			if pi, ok := tok.(xml.ProcInst); !ok || pi.Target != "xml-stylesheet" {
				t.Fatalf("read back %#v", tok)
			}
		})
	}
}

func TestStatusTTL(t *testing.T) {
	tests := []struct {
		name, attr string
		want       uint8
		err        bool
	}{
		{"unknown", "0", 0, false},
		{"missing", "", 0, false},
		{"linux beyond a hop", "63", 63, false},
		{"network gear", "255", 255, false},
		{"too large", "256", 0, true},
		{"negative", "-1", 0, true},
		{"no number", "ttl", 0, true},
		{"space", " 64", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Status{ReasonTTL: tt.attr}.TTL()
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("reason_ttl %q: %d, %v; want %d, error %v", tt.attr, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestStatusIP(t *testing.T) {
	tests := []struct {
		name, attr string
		want       string
		err        bool
	}{
		{"none", "", "invalid IP", false},
		{"router", "198.18.1.1", "198.18.1.1", false},
		{"ipv6 router", "fd00:1::1", "fd00:1::1", false},
		{"mapped", "::ffff:198.18.1.1", "198.18.1.1", false},
		{"zone", "fe80::1%eth0", "fe80::1%eth0", false},
		{"host name", "router.example", "invalid IP", true},
		{"space", " 198.18.1.1", "invalid IP", true},
		{"cidr", "198.18.1.0/24", "invalid IP", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Status{ReasonIP: tt.attr}.IP()
			if got.String() != tt.want || (err != nil) != tt.err {
				t.Errorf("reason_ip %q: %v, %v; want %s, error %v", tt.attr, got, err, tt.want, tt.err)
			}
		})
	}
}
