package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gold "github.com/portscan/portscan/internal/golden"
)

// runCLI runs the command line in-process with colour off.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, resolve: fakeResolve}
	code = runWith(context.Background(), g, append([]string{"--color", "never"}, args...))
	return out.String(), errb.String(), code
}

// fakeResolve answers "localhost" and fails every other name, so that no
// test sends a DNS query.
func fakeResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
}

// golden compares got with the file at path, rewriting it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	gold.Check(t, path, []byte(got))
}

func TestServicesGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"services-all.txt", []string{"services", "--lang", "en"}},
		{"services-all.json", []string{"services", "--format", "json"}},
		{"services-query-en.txt", []string{"services", "--lang", "en", "22", "ssh", "512/udp", "comsat"}},
		{"services-query-zh.txt", []string{"services", "--lang", "zh", "22", "1236", "4/ddp"}},
		{"services-query.json", []string{"services", "--format", "json", "512", "routed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden(t, filepath.Join("testdata", tt.name), out)
		})
	}
}

func TestServicesJSONCounts(t *testing.T) {
	out, _, code := runCLI(t, "services", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r["protocol"].(string)]++
		for _, k := range []string{"port", "protocol", "name", "aliases", "description", "description_en", "table", "note", "source"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("row %v lacks %q", r, k)
			}
		}
	}
	if len(rows) != 564 || counts["tcp"] != 311 || counts["udp"] != 249 || counts["ddp"] != 4 {
		t.Errorf("got %d rows %v, want 564 (311 tcp, 249 udp, 4 ddp)", len(rows), counts)
	}
}

func TestServicesExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"found", []string{"services", "ssh"}, 0, ""},
		{"not found", []string{"services", "ssh", "nonesuch"}, 1, "not in the catalog: nonesuch"},
		{"port not in catalog", []string{"services", "4/tcp"}, 1, "not in the catalog: 4/tcp"},
		{"port out of range", []string{"services", "70000"}, 2, `invalid port "70000": ports run 1-65535`},
		{"bad protocol", []string{"services", "22/sctp"}, 2, `unknown protocol "sctp"`},
		{"backwards range", []string{"services", "20-10"}, 2, "range runs backwards"},
		{"range", []string{"services", "2600-2606", "T:80"}, 0, ""},
		{"bad format", []string{"services", "--format", "yaml"}, 2, `unknown output format "yaml"`},
		{"bad lang", []string{"--lang", "fr", "services"}, 2, `invalid --lang "fr"`},
		{"bad color", []string{"--color", "pink", "services"}, 2, `invalid --color "pink"`},
		{"unknown flag", []string{"services", "--nope"}, 2, "unknown flag: --nope"},
		{"missing catalog", []string{"--services", "/nonexistent/file", "services"}, 2, "--services: open /nonexistent/file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if tt.stderr == "" && errs != "" || !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q, want %q", errs, tt.stderr)
			}
			if strings.Count(errs, "\n") > 1 {
				t.Errorf("stderr has more than one line: %q", errs)
			}
		})
	}
}

func TestServicesUserCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services")
	if err := os.WriteFile(path, []byte("my-ssh 22/tcp sshd # our own ssh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI(t, "--services", path, "services", "--format", "json", "22")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []struct{ Name, Protocol, Source string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Name != "my-ssh" || rows[0].Source != path || rows[1].Name != "ssh" || rows[1].Source != "builtin" {
		t.Errorf("rows = %+v", rows)
	}
}

func TestLangFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "en"},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, "zh"},
		{map[string]string{"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "C"}, "en"},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW"}, "zh"},
		{map[string]string{"LANG": "de_DE"}, "en"},
	}
	for _, tt := range tests {
		if got := langFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("langFromEnv(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestColorAlways(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), []string{"--color", "always", "services", "ssh"}, nil, &out, &out)
	if code != 0 || !strings.Contains(out.String(), "\x1b[") {
		t.Errorf("exit %d, no ANSI colour in %q", code, out.String())
	}
	plain, _, _ := runCLI(t, "services", "ssh")
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("colour with --color never: %q", plain)
	}
}

func TestServicesSkippedProtocols(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services")
	in := "amqp 5672/tcp\namqp 5672/sctp\nsip 5060/sctp\ndiscard 9/dccp\nrtmp 1/ddp # Routing Table Maintenance Protocol\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI(t, "--services", path, "services", "5672", "1/ddp")
	if code != 0 || !strings.Contains(out, "amqp") || !strings.Contains(out, "rtmp") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	want := "portscan: " + path + ": skipped 3 lines of protocols portscan does not scan (dccp 1, sctp 2)\n"
	if errs != want {
		t.Errorf("stderr %q, want %q", errs, want)
	}
	if _, errs, _ := runCLI(t, "-q", "--services", path, "services", "5672"); errs != "" {
		t.Errorf("with -q, stderr %q", errs)
	}
}

func TestUserCatalogKeepsBuiltinDescription(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services")
	if err := os.WriteFile(path, []byte("ssh 22/tcp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI(t, "--services", path, "services", "--format", "json", "22/tcp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []struct {
		Source        string
		DescriptionEn string `json:"description_en"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Source != path || rows[0].DescriptionEn != "Secure Shell (SSH) service" {
		t.Errorf("rows = %+v", rows)
	}
}
