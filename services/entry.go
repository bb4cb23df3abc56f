// Package services is portscan's service catalog: the names and
// descriptions that label every port the scanner reports. The built-in
// catalog is data/ports.tsv, made from the seed port list and a layer of
// the project's own ([OwnTable]); users add their own in /etc/services
// format or in the same TSV format. [Top] ranks the built-in ports, from
// data/top-ports.tsv, for --top-ports.
package services

import (
	"strings"

	"github.com/portscan/portscan/ports"
)

// Entry is one catalog row for one protocol. A seed row that has no
// protocol qualifier becomes two entries, one for tcp and one for udp.
type Entry struct {
	Port          ports.Port
	Name          string
	Aliases       []string
	Description   string // the seed's Chinese text, verbatim
	DescriptionEn string
	Table         string // the seed's "C-1" to "C-6", or [OwnTable]; empty for user catalogs
	Note          string // footnote text, if one applies
	Source        string // "builtin", or the path of a user catalog
}

// Describe returns the description in lang ("zh" or "en"), falling back to
// the other language when the wanted one is empty.
func (e *Entry) Describe(lang string) string {
	if lang == "zh" {
		if e.Description != "" {
			return e.Description
		}
		return e.DescriptionEn
	}
	if e.DescriptionEn != "" {
		return e.DescriptionEn
	}
	return e.Description
}

// Is says whether name (in any case) is the entry's name or one of its
// aliases.
func (e *Entry) Is(name string) bool {
	if strings.EqualFold(e.Name, name) {
		return true
	}
	for _, a := range e.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// Builtin is the Source of entries from the embedded catalog.
const Builtin = "builtin"

// OwnTable is the Table of the built-in entries that are portscan's own
// rather than the seed's: common service ports the seed list lacks.
const OwnTable = "P-1"
