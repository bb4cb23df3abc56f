package output

import (
	"net/url"
	"os"
	"path/filepath"
)

// stylesheetDirs are where an installed nmap keeps nmap.xsl, after
// $NMAPDIR: Debian's and most distributions' package, a source build's
// default prefix, Homebrew on Apple silicon.
var stylesheetDirs = []string{"/usr/share/nmap", "/usr/local/share/nmap", "/opt/homebrew/share/nmap"}

// LocalStylesheet returns the file URL of the nmap.xsl of an nmap
// installed on this machine, looked for in $NMAPDIR and then where nmap
// packages put it, or "" when there is none. It is the stylesheet XML
// output names by default, as nmap names its own installed copy: a
// browser on the machine that wrote the file renders it, and one
// elsewhere shows the XML as it is.
func LocalStylesheet() string {
	dirs := stylesheetDirs
	if d := os.Getenv("NMAPDIR"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	return findStylesheet(dirs)
}

// findStylesheet returns the file URL of the first nmap.xsl in dirs.
func findStylesheet(dirs []string) string {
	for _, d := range dirs {
		p, err := filepath.Abs(filepath.Join(d, "nmap.xsl"))
		if err != nil {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
		}
	}
	return ""
}
