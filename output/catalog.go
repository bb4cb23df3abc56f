package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/rivo/uniseg"

	"github.com/portscan/portscan/internal/text"
	"github.com/portscan/portscan/services"
)

// CatalogEntry is the JSON form of one catalog entry, as printed by
// `portscan services --format json`. A row that is both tcp and udp is two
// entries.
type CatalogEntry struct {
	Port          uint16   `json:"port"`
	Protocol      string   `json:"protocol"`
	Name          string   `json:"name"`
	Aliases       []string `json:"aliases"`
	Description   string   `json:"description"`
	DescriptionEn string   `json:"description_en"`
	Table         string   `json:"table"`
	Note          string   `json:"note"`
	Source        string   `json:"source"`
}

// NewCatalogEntry converts a catalog entry to its JSON form.
func NewCatalogEntry(e *services.Entry) CatalogEntry {
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return CatalogEntry{
		Port:          e.Port.Number,
		Protocol:      e.Port.Proto.String(),
		Name:          e.Name,
		Aliases:       aliases,
		Description:   e.Description,
		DescriptionEn: e.DescriptionEn,
		Table:         e.Table,
		Note:          e.Note,
		Source:        e.Source,
	}
}

// WriteCatalog prints catalog entries in format "text" (an aligned table)
// or "json" (an array of CatalogEntry). Text descriptions are in opt.Lang.
func WriteCatalog(w io.Writer, format string, entries iter.Seq[*services.Entry], opt Options) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		if _, err := bw.WriteString("["); err != nil {
			return err
		}
		first := true
		for e := range entries {
			b, err := json.Marshal(NewCatalogEntry(e))
			if err != nil {
				return err
			}
			sep := ",\n  "
			if first {
				sep, first = "\n  ", false
			}
			bw.WriteString(sep)
			bw.Write(b)
		}
		if !first {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	case "text", "":
		writeCatalogText(bw, entries, opt)
	default:
		return fmt.Errorf("%w %q for services: want text or json", ErrFormat, format)
	}
	return bw.Flush()
}

func writeCatalogText(w io.Writer, entries iter.Seq[*services.Entry], opt Options) {
	header := []string{"PORT", "SERVICE", "ALIASES", "TABLE", "DESCRIPTION"}
	var rows [][]string
	for e := range entries {
		aliases := text.Escape(strings.Join(e.Aliases, ","))
		rows = append(rows, []string{e.Port.String(), text.Escape(e.Name), aliases, text.Escape(e.Table), text.Escape(e.Describe(opt.Lang))})
	}
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], uniseg.StringWidth(cell))
		}
	}
	p := text.NewPaint(opt.Color)
	plain := func(s string) string { return s }
	line := func(r []string, cs []func(string) string) {
		var b strings.Builder
		for i, cell := range r {
			if i == len(r)-1 {
				b.WriteString(cs[i](cell))
				break
			}
			b.WriteString(cs[i](cell))
			b.WriteString(strings.Repeat(" ", widths[i]-uniseg.StringWidth(cell)+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header, []func(string) string{p.Strong, p.Strong, p.Strong, p.Strong, p.Strong})
	for _, r := range rows {
		line(r, []func(string) string{plain, p.Good, p.Faint, plain, plain})
	}
}
