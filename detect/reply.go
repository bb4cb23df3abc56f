package detect

// reply is a numbered reply of the text protocols that share RFC 959's
// form (FTP, SMTP, NNTP): a three-digit code, then text; a reply of
// several lines opens with "code-" and ends with the line "code text".
type reply struct {
	code  int      // 100 to 599
	lines []string // the text of the lines read whole, the code cut off
	// done says that the last line was read; full that the matcher
	// read all it ever will (maxGreeting) without it.
	done, full bool
}

// maxReplyLines bounds the lines of a reply read.
const maxReplyLines = 64

// readReply reads the reply that opens got. ok is false when got cannot
// be, or become, such a reply; when it could but its first line is not
// whole yet, ok is true and r has no lines.
func readReply(got []byte) (r reply, ok bool) {
	b, full := greetHead(got)
	r.full = full
	// The code: three digits, the first 1 to 5.
	for i := 0; i < 3; i++ {
		if i >= len(b) {
			return r, !full
		}
		c := b[i]
		if c < '0' || c > '9' || i == 0 && (c < '1' || c > '5') {
			return r, false
		}
		r.code = r.code*10 + int(c-'0')
	}
	if len(b) == 3 {
		return r, true
	}
	multi := false
	switch b[3] {
	case ' ', '\r', '\n':
	case '-':
		multi = true
	default:
		return r, false
	}
	code := string(b[:3])
	for first := true; len(r.lines) < maxReplyLines; first = false {
		line, rest, whole := cutLine(b)
		if !isText(line) {
			return r, false
		}
		if !whole {
			return r, true
		}
		b = rest
		text := string(line)
		last := !multi
		if !first {
			// RFC 959 lets the inner lines of a reply start any way;
			// the last starts with the code and a space.
			if len(text) >= 3 && text[:3] == code && (len(text) == 3 || text[3] == ' ') {
				last = true
			}
		}
		if len(text) >= 4 && text[:3] == code && (text[3] == ' ' || text[3] == '-') {
			text = text[4:]
		} else if len(text) == 3 && text == code {
			text = ""
		}
		r.lines = append(r.lines, text)
		if last {
			r.done = true
			return r, true
		}
	}
	r.full = true
	return r, true
}

// text is the reply's lines joined with spaces.
func (r reply) text() string {
	n := 0
	for _, l := range r.lines {
		n += len(l) + 1
	}
	out := make([]byte, 0, n)
	for i, l := range r.lines {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, l...)
	}
	return string(out)
}
