package main

import (
	"bufio"
	"bytes"
	byteorder "encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portscan/portscan/internal/lab"
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
				data, err := os.ReadFile(xmlPath)
				if err != nil {
					t.Fatal(err)
				}
				if s := strings.TrimSpace(string(data)); !strings.HasSuffix(s, "</nmaprun>") || !strings.Contains(s, `errormsg="interrupted"`) {
					t.Errorf("-oX not closed as interrupted: ...%s", s[max(0, len(s)-300):])
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
