package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	byteorder "encoding/binary"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
	"github.com/portscan/portscan/output"
)

// faultBound is how long a scan in these tests may go on after the test
// has done what should end it; it is a hang check, not a timing assertion.
const faultBound = 60 * time.Second

// dropRange is an nftables ruleset that drops every packet to
// 127.16.0.0/12: a scan of its million addresses finds every host down
// and writes nothing for many minutes.
const dropRange = `table inet faults {
	chain output {
		type filter hook output priority filter; policy accept;
		ip daddr 127.16.0.0/12 drop
	}
}
`

// waitBounded waits for cmd, killing it and failing the test if it has
// not ended within faultBound, and returns its exit status (-1 for a
// signal).
func waitBounded(t *testing.T, cmd *exec.Cmd, what string) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(faultBound):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s: portscan still runs %v later: it did not stop", what, faultBound)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestStdoutReaderGone runs scans with standard output a pipe whose
// reader goes away after the first line, as in "portscan ... | head -1":
// the scan must stop soon, whether or not it had more to write, say
// nothing on stderr, exit 141 (the status of a process killed by SIGPIPE,
// as the shell reports it) for every format, and still close the other
// outputs validly.
func TestStdoutReaderGone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ns := lab.NewNamespace(t, "stdout-gone")
	ns.Nft(dropRange)
	dir := t.TempDir()
	xmlPath := filepath.Join(dir, "scan.xml")
	tests := []struct {
		name string
		args []string
		xml  bool // --output-xml xmlPath is among the args
	}{
		{"text, every host down: nothing more to write", []string{"-p", "1-100", "127.16.0.0/12"}, false},
		{"csv, every host down: nothing more to write", []string{"--format", "csv", "-p", "1-100", "127.16.0.0/12"}, false},
		{"jsonl, a line for every port", []string{"--format", "jsonl", "--show", "closed", "-p", "1-65535", "127.2.0.0/16"}, false},
		{"text, a report for every host, and -oX", []string{"-p", "1-100", "--output-xml", xmlPath, "127.2.0.0/16"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := ns.Command(binary(t), tt.args...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = w, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			first, err := bufio.NewReader(r).ReadString('\n')
			r.Close()
			if err != nil {
				t.Errorf("first line: %q, %v", first, err)
			}
			code := waitBounded(t, cmd, "reader of stdout gone")
			if code != 141 || stderr.Len() != 0 {
				t.Errorf("exit %d, stderr %q; want 141 and nothing", code, stderr.String())
			}
			if tt.xml {
				checkClosed(t, xmlPath)
				data, err := os.ReadFile(xmlPath)
				if err != nil {
					t.Fatal(err)
				}
				if s := strings.TrimSpace(string(data)); !strings.HasSuffix(s, "</nmaprun>") || !strings.Contains(s, `errormsg="interrupted"`) {
					t.Errorf("-oX not closed as interrupted: ...%s", s[max(0, len(s)-600):])
				}
			}
		})
	}
}

// zeroPcap writes a little-endian Ethernet pcap file of n records of size
// zero bytes each: packets that are not IP, read and skipped.
func zeroPcap(w io.Writer, n, size int) error {
	le := byteorder.LittleEndian
	head := le.AppendUint32(nil, 0xa1b2c3d4)
	head = le.AppendUint16(head, 2)
	head = le.AppendUint16(head, 4)
	head = le.AppendUint64(head, 0)
	head = le.AppendUint32(head, 65535)
	head = le.AppendUint32(head, 1)
	if _, err := w.Write(head); err != nil {
		return err
	}
	rec := le.AppendUint32(le.AppendUint32(le.AppendUint64(nil, 0), uint32(size)), uint32(size))
	rec = append(rec, make([]byte, size)...)
	for range n {
		if _, err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// TestPcapStdoutReaderGone is TestStdoutReaderGone for pcap --packets,
// which writes a line per packet while it reads.
func TestPcapStdoutReaderGone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	path := filepath.Join(t.TempDir(), "zeros.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := zeroPcap(f, 200000, 60); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "pcap", "-q", "--packets", path, path, path)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	first, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if !strings.Contains(first, "not IP") {
		t.Errorf("first line %q, %v", first, err)
	}
	if code := waitBounded(t, cmd, "reader of stdout gone"); code != 141 || stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 141 and nothing", code, stderr.String())
	}
}

// TestKilledOutputWholeRecords kills scans writing jsonl and csv to -o
// with SIGKILL at a random moment after records have appeared, and
// checks that the file holds whole records, but for at most a piece of
// the last one: each is written with one write(2) of a whole line, but
// Linux stops a write to a regular file at a page boundary when a fatal
// signal is pending, so a kill can cut the one line that straddles
// one. Every port is listed, so that records are being written all the
// time.
func TestKilledOutputWholeRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			for round := range 5 {
				path := filepath.Join(t.TempDir(), "out."+format)
				cmd := exec.Command(binary(t), "-q", "--format", format, "--show", "closed", "-p", "1-65535", "-o", path, "127.1.0.1-8")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Wait for some records, then a little more, at random.
				for deadline := time.Now().Add(faultBound); ; time.Sleep(5 * time.Millisecond) {
					if fi, err := os.Stat(path); err == nil && fi.Size() > 32<<10 {
						break
					}
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatalf("no records in %s after %v", path, faultBound)
					}
				}
				time.Sleep(time.Duration(rand.Int64N(int64(50 * time.Millisecond))))
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
					// Cut by the kill: only where a page ends.
					if end := len(data); end%4096 != 0 {
						t.Errorf("round %d: the file ends in the middle of a line, at %d, not a page boundary: ...%q", round, end, data[max(0, len(data)-120):])
					}
					t.Logf("round %d: the last line was cut at a page boundary (%d bytes)", round, len(data)-i-1)
					data = data[:i+1]
				}
				n := checkRecords(t, format, data)
				t.Logf("round %d: %d whole records", round, n)
			}
		})
	}
}

// checkRecords fails the test unless every line of data is a whole
// jsonl object, or data is whole csv rows of output.CSVHeader's width,
// and returns how many records there were.
func checkRecords(t *testing.T, format string, data []byte) int {
	t.Helper()
	if format == "csv" {
		rd := csv.NewReader(bytes.NewReader(data))
		rd.FieldsPerRecord = len(output.CSVHeader)
		rows, err := rd.ReadAll()
		if err != nil {
			t.Errorf("csv: %v", err)
		}
		return len(rows)
	}
	lines := strings.SplitAfter(string(data), "\n")
	for i, line := range lines {
		if line == "" && i == len(lines)-1 {
			break
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil || obj["type"] == nil {
			t.Errorf("line %d is no whole record (%v): %q", i+1, err, line)
		}
	}
	return len(lines) - 1
}

// mountSmallTmpfs mounts a 64 KiB tmpfs on a new directory, unmounted at
// the end of the test; it skips the test when mount is not permitted
// (fails it, with PORTSCAN_LAB_REQUIRE set).
func mountSmallTmpfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot mount a small tmpfs (needs root): %v: %s", err, bytes.TrimSpace(out))
		if os.Getenv(lab.RequireEnv) != "" {
			t.Fatalf("%s (%s is set)", msg, lab.RequireEnv)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestFullDisk runs scans whose outputs run out of space, at once
// (/dev/full) or part way (a 64 KiB tmpfs): each must end with exit 1 and
// exactly one line on stderr that names the file and says "no space left
// on device", and the outputs that did not fail must be closed validly.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	small := mountSmallTmpfs(t)
	dir := t.TempDir()
	okJSON, okXML, okJSONL := filepath.Join(dir, "ok.json"), filepath.Join(dir, "ok.xml"), filepath.Join(dir, "ok.jsonl")
	tests := []struct {
		name   string
		args   []string
		full   string // the output that fills up
		others []string
	}{
		{"-o /dev/full", []string{"--format", "jsonl", "-p", "1-100", "-o", "/dev/full", "127.0.0.1"}, "/dev/full", nil},
		{"-oX /dev/full, json to -o", []string{"--format", "json", "-o", okJSON, "-p", "1-100", "--output-xml", "/dev/full", "127.0.0.1"}, "/dev/full", []string{okJSON}},
		{"-o on a full tmpfs, -oX elsewhere", []string{"--format", "jsonl", "--show", "closed", "-p", "1-65535", "-o", filepath.Join(small, "out.jsonl"), "--output-xml", okXML, "127.0.0.1"},
			filepath.Join(small, "out.jsonl"), []string{okXML}},
		{"-oX on a full tmpfs, jsonl elsewhere", []string{"--format", "jsonl", "-o", okJSONL, "--output-xml", filepath.Join(small, "out.xml"), "-p", "1-20", "127.1.0.0/22"},
			filepath.Join(small, "out.xml"), []string{okJSONL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range append([]string{filepath.Join(small, "out.jsonl"), filepath.Join(small, "out.xml")}, tt.others...) {
				os.Remove(p)
			}
			cmd := exec.Command(binary(t), append([]string{"-q"}, tt.args...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			code := waitBounded(t, cmd, "disk full")
			msg := stderr.String()
			t.Logf("stderr: %s", msg)
			if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tt.full) || !strings.Contains(msg, "no space left on device") ||
				strings.Contains(msg, "panic") || strings.Count(msg, "writing output") > 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line naming %s and saying no space left on device", code, msg, tt.full)
			}
			for _, p := range tt.others {
				checkClosed(t, p)
			}
		})
	}
}

// checkClosed fails the test unless the output at path is a whole
// document (json, xml) or whole lines ending with the summary (jsonl).
func checkClosed(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(path) {
	case ".json":
		var doc struct{ Summary map[string]any }
		if err := json.Unmarshal(data, &doc); err != nil || doc.Summary == nil {
			t.Errorf("%s is not a closed JSON document (%v): ...%s", path, err, data[max(0, len(data)-200):])
		}
	case ".xml":
		dec := xml.NewDecoder(bytes.NewReader(data))
		var err error
		for err == nil {
			_, err = dec.Token()
		}
		if err != io.EOF || !strings.HasSuffix(strings.TrimSpace(string(data)), "</nmaprun>") {
			t.Errorf("%s is not a closed XML document (%v): ...%s", path, err, data[max(0, len(data)-200):])
		}
	case ".jsonl":
		checkRecords(t, "jsonl", data)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, `"type":"summary"`) {
			t.Errorf("%s does not end with the summary: %q", path, last)
		}
	}
}

// bombStream writes to w a gzip stream of head followed by n copies of
// unit: each is compressed once, as a gzip member of its own that the
// stream repeats, so that the uncompressed bytes are never held and the
// test spends no time compressing a gigabyte.
func bombStream(w io.Writer, head, unit []byte, n int) error {
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	first, rest := member(head), member(unit)
	_, err := w.Write(first)
	for i := 0; i < n && err == nil; i++ {
		_, err = w.Write(rest)
	}
	return err
}

// TestPcapGzipBomb feeds `portscan pcap -` gzip streams of about 1 GiB of
// zeros in a pcap, through a pipe, and checks the child's peak RSS: it
// reads through a gigabyte of zero-filled records with flat memory, and
// refuses a single record claiming a gigabyte at once, on one line.
func TestPcapGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, decompresses 1 GiB")
	}
	const gib = 1 << 30
	var zeros bytes.Buffer
	zeroPcap(&zeros, 0, 0)
	header := zeros.Bytes() // the file header alone, snap length 65535
	le := byteorder.LittleEndian
	record := func(n uint32) []byte { return le.AppendUint32(le.AppendUint32(le.AppendUint64(nil, 0), n), n) }
	hugeSnap := le.AppendUint32(bytes.Clone(header[:16]), 0xffffffff)
	hugeSnap = le.AppendUint32(hugeSnap, 1)
	tests := []struct {
		name       string
		head, unit []byte
		n          int
		code       int
		stderr     string // the one line, when code is not 0
	}{
		{"16384 records of 64 KiB of zeros", header, append(record(65535), make([]byte, 65535)...), 16384, 0, ""},
		{"one record of 1 GiB", append(hugeSnap, record(gib)...), make([]byte, 1<<20), gib >> 20, 1,
			"portscan: stdin: packet 1 at byte offset 24 (uncompressed): corrupt capture: capture length 1073741824 is more than 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(bombStream(pw, tt.head, tt.unit, tt.n)) }()
			cmd := exec.Command(binary(t), "pcap", "-q", "--format", "jsonl", "-")
			var stdout, stderr bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = pr, &stdout, &stderr
			peak := measureRSS(t, cmd)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			code := waitBounded(t, cmd, "gzip bomb")
			pr.Close()
			rss := peak()
			t.Logf("exit %d, peak RSS %d MiB, stderr %q", code, rss>>20, stderr.String())
			if rss > 64<<20 {
				t.Errorf("peak RSS %d MiB; want at most 64 MiB", rss>>20)
			}
			if code != tt.code || tt.code == 0 && stderr.Len() != 0 ||
				tt.code != 0 && (strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), tt.stderr)) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.stderr)
			}
			if !strings.Contains(stdout.String(), `"type":"summary"`) {
				t.Errorf("no report on stdout: %q", stdout.String())
			}
		})
	}
}

// measureRSS makes cmd run under GNU time, and returns what reads the
// command's peak RSS, in bytes, once it has ended. The Maxrss of a child
// started from the test process itself would be no measure: Linux keeps
// a process's high-water RSS across its exec, and os/exec's vfork
// makes that the test process's own, tens of MiB by the time a test
// runs. time forks the command from a process of its own, a few hundred
// KiB, and writes the command's own peak. It exits as the command does.
func measureRSS(t *testing.T, cmd *exec.Cmd) func() int64 {
	t.Helper()
	tool, err := exec.LookPath("time")
	if err != nil {
		tool = "/usr/bin/time"
	}
	if _, err := os.Stat(tool); err != nil {
		if os.Getenv("PORTSCAN_LAB_REQUIRE") != "" {
			t.Fatalf("GNU time is needed to measure a child's peak RSS (apt-get install time): %v", err)
		}
		t.Skip("GNU time is needed to measure a child's peak RSS (apt-get install time)")
	}
	out := filepath.Join(t.TempDir(), "rss")
	cmd.Args = append([]string{tool, "-q", "-f", "%M", "-o", out, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = tool
	return func() int64 {
		t.Helper()
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("the peak RSS GNU time wrote: %v", err)
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			t.Fatalf("GNU time wrote no peak RSS: %q", data)
		}
		kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
		if err != nil {
			t.Fatalf("GNU time's peak RSS %q: %v", data, err)
		}
		return kib << 10
	}
}
