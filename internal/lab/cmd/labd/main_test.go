package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"list", []string{"-list"}, "lan-hosts", ""},
		{"rules", []string{"-rules", "filtered"}, "reject with icmpx type admin-prohibited", ""},
		{"rules-unknown", []string{"-rules", "nope"}, "", "unknown preset"},
		{"preset-unknown", []string{"-preset", "nope"}, "", "unknown preset"},
		{"setup-alone", []string{"-setup"}, "", "-setup needs -preset"},
		{"bad-service", []string{"tcp:127.0.0.1:22", "tcp:nowhere:1"}, "", "argument 2"},
		{"nothing", nil, "", "nothing to listen on"},
		{"bad-flag", []string{"-bogus"}, "", "not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tc.args, &out, &errOut)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run(%q) = %v, want an error containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("run(%q) = %v, output %q; want %q in it", tc.args, err, out.String(), tc.wantOut)
			}
		})
	}
}
