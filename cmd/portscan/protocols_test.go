package main

import (
	"strings"
	"testing"
)

// TestPortsOfAnotherProtocol checks that a port list naming only ports
// of a protocol not scanned says which flag would scan them, instead of
// "no ports left to scan" alone.
func TestPortsOfAnotherProtocol(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"U: in a TCP scan", []string{"-p", "U:53", "127.0.0.1"}, "no ports left to scan: U:53 are UDP ports, which need -sU (--udp)"},
		{"U: list in a TCP scan", []string{"-sT", "-p", "U:53,U:161-162", "127.0.0.1"}, "U:53,161-162 are UDP ports, which need -sU (--udp)"},
		{"T: in a UDP scan", []string{"-sU", "-p", "T:80", "127.0.0.1"}, "no ports left to scan: T:80 are TCP ports, which need -sT (--tcp) or -sS (--syn) beside -sU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if code != 2 || !strings.Contains(errs, tt.msg) || strings.Count(errs, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want 2 and one line with %q", code, errs, out, tt.msg)
			}
		})
	}
}
