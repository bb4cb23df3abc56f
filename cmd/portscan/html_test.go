package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// page reads an HTML report and checks that it is one: a page of
// portscan's, whole, with the strings wanted.
func page(t *testing.T, path string, want ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, string(b), want...)
	return string(b)
}

func checkPage(t *testing.T, p string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(p, "<!DOCTYPE html>") || !strings.HasSuffix(p, "</html>\n") || !strings.Contains(p, `http-equiv="Content-Security-Policy"`) {
		t.Fatalf("not a whole page:\n%.300s", p)
	}
	for _, w := range want {
		if !strings.Contains(p, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

// TestScanHTML scans a loopback listener into --format html and
// --output-html beside jsonl.
func TestScanHTML(t *testing.T) {
	port, name := listenCatalogPort(t)
	dir := t.TempDir()
	p := strconv.Itoa(port)
	row := `<td class="st-open">open</td><td class="s">` + name + "\n"
	out, errs, code := runCLI(t, "-q", "-p", p, "-Pn", "--format", "html", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkPage(t, out, row, ">"+p+"/tcp</th>", "<code>portscan --color never -q -p "+p+" -Pn --format html 127.0.0.1</code>")
	file := filepath.Join(dir, "scan.html")
	out, errs, code = runCLI(t, "-q", "-p", p, "-Pn", "--format", "jsonl", "--output-html", file, "127.0.0.1")
	if code != 0 || !strings.Contains(out, `"type":"port"`) {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	page(t, file, row)
	// -oH stays refused: it is not nmap's.
	if _, errs, code := runCLI(t, "-oH", file, "127.0.0.1"); code != exitUsage || !strings.Contains(errs, "--output-html FILE") {
		t.Errorf("-oH: exit %d, stderr %q", code, errs)
	}
}

func TestHTMLUsageErrors(t *testing.T) {
	inTempDir(t)
	runUsageCases(t, []usageCase{
		{"output-html empty", []string{"--output-html", "", "127.0.0.1"}, "--output-html needs a file name"},
		{"output-html and -o", []string{"-o", "x.html", "--output-html", "x.html", "127.0.0.1"}, "--output and --output-html both write to x.html"},
		{"output-html on stdout", []string{"-oX", "-", "--output-html", "-", "127.0.0.1"}, "--output-xml and --output-html both write to standard output"},
		{"output-html over the list", []string{"-iL", "list", "--output-html", "list"}, "--output-html would overwrite --input-list list"},
		{"audit format", []string{"audit", "--policy", "p.yaml", "--format", "csv"}, `invalid --format "csv": want text, json or html`},
		{"diff format", []string{"diff", "--format", "csv", "a", "b"}, `invalid --format "csv": want text, json or html`},
		{"report no file", []string{"report", "-o", "r.html"}, "report: give one or more result files"},
		{"report missing", []string{"report", "-o", "r.html", "missing.jsonl"}, "open missing.jsonl"},
		{"report over an input", []string{"report", "-o", "a", "a"}, "--output would overwrite input a"},
	})
}

func TestPcapHTML(t *testing.T) {
	out, errs, code := runCLI(t, "pcap", "-q", "--format", "html", labPcap(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkPage(t, out, `<body class="pcap">`, `data-sort="num">Flows</th>`, "First seen", `<td class="st-open">open</td>`)
}

func TestAuditHTML(t *testing.T) {
	dir := t.TempDir()
	results := writeFile(t, dir, "r.jsonl", labResults)
	policy := writeFile(t, dir, "p.yaml", strings.Replace(labPolicy, "allow: [ssh, http]", "allow: [ssh]", 1))
	file := filepath.Join(dir, "audit.html")
	_, errs, code := runCLI(t, "audit", "--policy", policy, "--from", results, "--format", "html", "-o", file)
	if code != exitFail || !strings.Contains(errs, "audit failed") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	page(t, file, `<span class="verdict fail">FAIL</span>`, `id="violations"`, "80/tcp (http)")
}

func TestDiffHTML(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "old.jsonl", labResults)
	cur := writeFile(t, dir, "new.jsonl", strings.Replace(labResults, `"port":80,"protocol":"tcp","state":"open"`, `"port":8080,"protocol":"tcp","state":"open"`, 1))
	out, errs, code := runCLI(t, "diff", "--format", "html", old, cur)
	if code != exitFail || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	checkPage(t, out, `id="opened"`, `id="closed"`, "8080/tcp", "80/tcp")
}

// TestReportCommand renders saved results of every kind the readers
// take, without a packet: portscan's jsonl and nmap's XML into one page.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	results := writeFile(t, dir, "r.jsonl", labResults)
	nmap, err := filepath.Abs(filepath.Join("..", "..", "baseline", "testdata", "nmap.xml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "report.html")
	out, errs, code := runCLI(t, "report", "-o", file, results, nmap)
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	p := page(t, file, "198.18.0.4", ">3306/tcp</th>", "web1.lab (198.18.0.1)", "MySQL database service")
	if n := strings.Count(p, `<tr class="g">`); n < 2 {
		t.Errorf("%d host groups, want the hosts of both files", n)
	}
	// On standard output, with the title it was given.
	out, _, code = runCLI(t, "report", "--title", "Nightly <audit>", results)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkPage(t, out, "<title>Nightly &lt;audit&gt;</title>")
}
