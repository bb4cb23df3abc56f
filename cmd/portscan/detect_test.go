package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// listenGreeter serves an SSH greeting on a loopback port of its own.
func listenGreeter(t *testing.T, greeting string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				io.WriteString(conn, greeting)
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestDetectFlag(t *testing.T) {
	port := listenGreeter(t, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
	p := strconv.Itoa(port)
	t.Run("-sV jsonl", func(t *testing.T) {
		out, errs, code := runCLI(t, "-sV", "-Pn", "-p", p, "--format", "jsonl", "127.0.0.1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var found bool
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var rec struct {
				Type     string
				Port     int
				Detected *struct {
					Name, Product, Version, Method, Label string
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Type != "port" || rec.Port != port {
				continue
			}
			found = true
			d := rec.Detected
			if d == nil || d.Name != "ssh" || d.Product != "OpenSSH" || d.Version != "9.2p1" || d.Method != "probe" {
				t.Errorf("detected = %+v in %s", d, sc.Text())
			}
		}
		if !found {
			t.Fatalf("no port line:\n%s", out)
		}
	})
	t.Run("--detect text", func(t *testing.T) {
		out, errs, code := runCLI(t, "--detect", "--detect-timeout", "2s", "-Pn", "-p", p, "127.0.0.1")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"VERSION", p + "/tcp open  ssh* ", "OpenSSH 9.2p1 (Debian 2+deb12u3; protocol 2.0)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("without -sV", func(t *testing.T) {
		out, _, _ := runCLI(t, "-Pn", "-p", p, "--format", "jsonl", "127.0.0.1")
		if strings.Contains(out, `"detected"`) {
			t.Errorf("detection ran unasked:\n%s", out)
		}
	})
}
