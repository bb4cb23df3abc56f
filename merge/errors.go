package merge

import (
	"errors"
	"fmt"

	"github.com/portscan/portscan/internal/text"
)

// ErrInput is wrapped by every error for a file that is not a result
// file merge reads: not portscan's jsonl, json or XML nor nmap's XML,
// bad syntax, impossible values, or a file that changed between the two
// readings.
var ErrInput = errors.New("invalid result file")

// ErrMismatch is wrapped by the error for files that are not parts of
// one scan: their fingerprints differ, one has none, or their shards
// are of different splits. Options.Force merges them anyway.
var ErrMismatch = errors.New("files of different scans")

// InputError is an error at a place in a result file. It prints as
// "name:line:col: message", "name:line: message" when the column is
// unknown, or "name: message", with the byte offset after the message
// when it is known. It wraps ErrInput.
type InputError struct {
	Name      string
	Line, Col int
	Offset    int64 // from the start of the file; -1 when unknown
	Msg       string
}

func (e *InputError) Error() string {
	msg := clip(text.OneLine(e.Msg))
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" (byte offset %d)", e.Offset)
	}
	name := text.Escape(e.Name)
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", name, msg)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", name, e.Line, msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", name, e.Line, e.Col, msg)
}

// Unwrap returns ErrInput.
func (e *InputError) Unwrap() error { return ErrInput }

// MismatchError names two files that are not parts of one scan, and
// why. It wraps ErrMismatch.
type MismatchError struct {
	A, B string // the files
	Why  string // "fingerprint X and fingerprint Y", ...
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s and %s are not parts of one scan: %s; --force merges them anyway",
		text.Escape(e.A), text.Escape(e.B), clip(text.OneLine(e.Why)))
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// maxQuote bounds the bytes of a file an error quotes, maxMsg an
// error's message: what a file says can neither flood a terminal nor
// hide the rest of the line.
const (
	maxQuote = 40
	maxMsg   = 240
)

// clip cuts msg to maxMsg bytes, at a character, with "..." after it.
func clip(msg string) string { return text.Cut(msg, maxMsg) }

// quote quotes at most maxQuote bytes of s, escaped as Go escapes
// strings, with "..." after it when s was cut.
func quote(s string) string { return text.QuoteCut(s, maxQuote) }
