// Package data holds portscan's built-in data files, embedded in the
// binary. ports.tsv is the service catalog made from the seed port list
// and a layer of the project's own; top-ports.tsv ranks its ports for
// --top-ports. Each file's header describes its format.
package data

import _ "embed"

// PortsTSV is the built-in service catalog in portscan's TSV format.
//
//go:embed ports.tsv
var PortsTSV []byte

// TopPortsTSV is the port ranking behind --top-ports and -F; its header
// gives the tiers and why they come in that order.
//
//go:embed top-ports.tsv
var TopPortsTSV []byte
