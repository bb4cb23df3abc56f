package text

import "github.com/fatih/color"

// Paint colours text by what it means, the same way in every report:
// green for good news (open, added, passed), red for bad (closed,
// removed, failed), yellow for warnings (filtered, changed), cyan for
// the undecided (open|filtered). Made off, it returns text as it is;
// whether to colour (a terminal, NO_COLOR, --color) is the caller's call.
type Paint struct {
	good, bad, warn, note, strong, faint *color.Color
}

// NewPaint returns a Paint that colours when on.
func NewPaint(on bool) *Paint {
	mk := func(a color.Attribute) *color.Color {
		c := color.New(a)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return &Paint{mk(color.FgGreen), mk(color.FgRed), mk(color.FgYellow), mk(color.FgCyan), mk(color.Bold), mk(color.Faint)}
}

// Good paints s green.
func (p *Paint) Good(s string) string { return p.good.Sprint(s) }

// Bad paints s red.
func (p *Paint) Bad(s string) string { return p.bad.Sprint(s) }

// Warn paints s yellow.
func (p *Paint) Warn(s string) string { return p.warn.Sprint(s) }

// Note paints s cyan.
func (p *Paint) Note(s string) string { return p.note.Sprint(s) }

// Strong paints s bold.
func (p *Paint) Strong(s string) string { return p.strong.Sprint(s) }

// Faint paints s dim.
func (p *Paint) Faint(s string) string { return p.faint.Sprint(s) }
