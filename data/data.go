// Package data holds portscan's built-in data files, embedded in the
// binary. ports.tsv is the service catalog made from the seed port list;
// its header describes the format.
package data

import _ "embed"

// PortsTSV is the built-in service catalog in portscan's TSV format.
//
//go:embed ports.tsv
var PortsTSV []byte
