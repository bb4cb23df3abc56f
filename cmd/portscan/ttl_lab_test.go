package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabSynTTL runs -sS --reason through the routed lab, whose hosts
// send with TTL 111 and router with 222: text prints each reason with
// the TTL of its answer, as nmap does (110 from the host, a hop away;
// 222 for the router's ICMP error), -oX writes it in reason_ttl (valid
// against nmap's DTD), jsonl in "ttl", and a merge of the jsonl keeps it.
func TestLabSynTTL(t *testing.T) {
	if !lab.InChild() {
		l := lab.NewRouted(t)
		l.Hosts.SetTTL(111)
		l.Router.SetTTL(222)
		l.Scanner.Reexec(t, l)
		return
	}
	var l lab.Routed
	lab.ChildData(t, &l)
	dir := t.TempDir()
	xml, jsonl, merged := filepath.Join(dir, "scan.xml"), filepath.Join(dir, "scan.jsonl"), filepath.Join(dir, "merged.xml")
	host := l.Live[0].Addr.String() // 22 open, 23 rejected by the router
	out, errs, code := runCLI(t, "-sS", "--reason", "--show", "closed,filtered", "-p", "22,23,443", "-oX", xml, host)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, re := range []string{
		`Host is up, received [a-z-]+ ttl 110 \(`,
		`\n22/tcp +open +ssh +syn-ack ttl 110 `,
		`\n23/tcp +filtered +telnet +admin-prohibited from 198\.18\.1\.1 ttl 222 `,
		`\n443/tcp +closed +https +reset ttl 110 `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("text lacks %s:\n%s", re, out)
		}
	}
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`reason="syn-ack" reason_ttl="110"`, `reason="admin-prohibited" reason_ttl="222"`, `reason="reset" reason_ttl="110"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("XML lacks %s:\n%s", want, b)
		}
	}
	xmlValid(t, xml)
	if _, errs, code := runCLI(t, "-q", "-sS", "--show", "filtered", "-p", "22,23", "--format", "jsonl", "-o", jsonl, host); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(jsonl); !strings.Contains(string(b), `"port":22,"protocol":"tcp","state":"open","reason":"syn-ack","ttl":110,`) {
		t.Errorf("jsonl lacks the SYN-ACK's ttl:\n%s", b)
	}
	if _, errs, code := runCLI(t, "merge", "--show", "filtered", "--format", "xml", "-o", merged, jsonl); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	b, _ = os.ReadFile(merged)
	for _, want := range []string{`reason="syn-ack" reason_ttl="110"`, `reason="admin-prohibited" reason_ttl="222"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("merged XML lacks %s:\n%s", want, b)
		}
	}
	xmlValid(t, merged)
}
