package main

import (
	"github.com/spf13/cobra"

	"github.com/portscan/portscan/nmapxml"
	"github.com/portscan/portscan/output"
)

// xslFlags choose the XSL stylesheet that XML output names, as nmap's
// --stylesheet, --webxml and --no-stylesheet do.
type xslFlags struct {
	path      string
	web, none bool
}

func addXSLFlags(cmd *cobra.Command, x *xslFlags) {
	fl := cmd.Flags()
	fl.StringVar(&x.path, "stylesheet", "", "XML output names the XSL stylesheet at `PATH|URL`, written as given (default: the nmap.xsl of an installed nmap, if any)")
	fl.BoolVar(&x.web, "webxml", false, "XML output names nmap.xsl on nmap.org, for files opened where nmap is not installed")
	fl.BoolVar(&x.none, "no-stylesheet", false, "XML output names no stylesheet")
	cmd.MarkFlagsMutuallyExclusive("stylesheet", "webxml", "no-stylesheet")
}

// href is the stylesheet XML output names; "" names none.
func (x *xslFlags) href() string {
	switch {
	case x.none:
		return ""
	case x.web:
		return nmapxml.WebStylesheet
	case x.path != "":
		return x.path
	}
	return output.LocalStylesheet()
}
