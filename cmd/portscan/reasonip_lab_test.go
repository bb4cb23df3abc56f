package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portscan/portscan/internal/lab"
)

// TestLabReasonIP runs -sS --reason through the routed lab, whose router
// (198.18.1.1) rejects 198.18.2.1 port 23 with admin-prohibited: text
// prints "from 198.18.1.1" before the TTL, as nmap's --reason does,
// -oX writes reason_ip (valid against nmap's DTD), jsonl "reason_ip",
// none of them for an answer the target sent, and a merge keeps it.
func TestLabReasonIP(t *testing.T) {
	if !lab.InChild() {
		l := lab.NewRouted(t)
		l.Scanner.Reexec(t, l)
		return
	}
	var l lab.Routed
	lab.ChildData(t, &l)
	dir := t.TempDir()
	xml, jsonl, merged := filepath.Join(dir, "scan.xml"), filepath.Join(dir, "scan.jsonl"), filepath.Join(dir, "merged.xml")
	args := []string{"-sS", "--reason", "--show", "closed,filtered", "-p", "22,23,80", l.Live[0].Addr.String()}
	out, errs, code := runCLI(t, append([]string{"-oX", xml}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Logf("portscan %s\n%s", strings.Join(args, " "), out)
	for _, re := range []string{
		`\n22/tcp +open +ssh +syn-ack ttl 63 `,
		`\n23/tcp +filtered +telnet +admin-prohibited from 198\.18\.1\.1 ttl 64 `,
		`\n80/tcp +open +http +syn-ack ttl 63 `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("text lacks %s:\n%s", re, out)
		}
	}
	if strings.Count(out, " from ") != 1 {
		t.Errorf("text has %d from, want 1:\n%s", strings.Count(out, " from "), out)
	}
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("-oX:\n%s", b)
	for _, want := range []string{`reason="admin-prohibited" reason_ttl="64" reason_ip="198.18.1.1"`, `reason="syn-ack" reason_ttl="63">`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("XML lacks %s:\n%s", want, b)
		}
	}
	xmlValid(t, xml)
	if _, errs, code := runCLI(t, "-q", "-sS", "--show", "filtered", "-p", "22,23", "--format", "jsonl", "-o", jsonl, l.Live[0].Addr.String()); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ = os.ReadFile(jsonl)
	t.Logf("jsonl:\n%s", b)
	if !strings.Contains(string(b), `"port":23,"protocol":"tcp","state":"filtered","reason":"admin-prohibited","ttl":64,"reason_ip":"198.18.1.1",`) {
		t.Errorf("jsonl lacks reason_ip:\n%s", b)
	}
	if _, errs, code := runCLI(t, "merge", "--show", "filtered", "--format", "xml", "-o", merged, jsonl); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(merged); !strings.Contains(string(b), `reason="admin-prohibited" reason_ttl="64" reason_ip="198.18.1.1"`) {
		t.Errorf("merged XML lacks reason_ip:\n%s", b)
	}
	xmlValid(t, merged)
}
