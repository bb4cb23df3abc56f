package main

import "testing"

// TestVersionFlag checks that --version prints the version and exits 0
// without scanning, before any other flag is checked: the image test of
// docs/scale runs it as the container's first command.
func TestVersionFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"alone", []string{"--version"}},
		{"with a bad flag value after it", []string{"--version", "--rate", "NaN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tc.args...)
			if code != exitOK || out != "portscan "+version+"\n" || errs != "" {
				t.Errorf("portscan %v: status %d, stdout %q, stderr %q; want 0, %q, nothing", tc.args, code, out, errs, "portscan "+version+"\n")
			}
		})
	}
}
