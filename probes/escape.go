package probes

// posError is a fault at a 0-based byte offset of the line.
type posError struct {
	at  int
	msg string
}

// cEscapes are the one-letter escapes of a probe string, as in C.
var cEscapes = map[byte]byte{
	'0': 0, 'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// probeString decodes a probe string whose delimiter is line[d], up to
// the next unescaped delimiter. It returns the bytes and the offset
// after the closing delimiter. Escapes: \0 \a \b \f \n \r \t \v, \xHH
// (two hex digits) and a backslash before any other character that is
// not a letter or digit (\\, \|), which stands for that character. \0 is
// always one NUL byte: "\012" is NUL, '1', '2', never an octal escape.
func probeString(line string, d int) ([]byte, int, *posError) {
	delim := line[d]
	if isAlnum(delim) || delim == ' ' || delim == '\t' || delim == '\\' {
		return nil, 0, &posError{d, "probe string delimiter must be a punctuation mark"}
	}
	var out []byte
	for i := d + 1; i < len(line); i++ {
		c := line[i]
		switch {
		case c == delim:
			return out, i + 1, nil
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i+1 >= len(line) {
			break
		}
		e := line[i+1]
		if b, ok := cEscapes[e]; ok {
			out = append(out, b)
			i++
			continue
		}
		if e == 'x' {
			if i+3 >= len(line) || unhex(line[i+2]) < 0 || unhex(line[i+3]) < 0 {
				return nil, 0, &posError{i, `\x needs two hex digits`}
			}
			out = append(out, byte(unhex(line[i+2])<<4|unhex(line[i+3])))
			i += 3
			continue
		}
		if isAlnum(e) {
			return nil, 0, &posError{i, "unknown escape \\" + string(e)}
		}
		out = append(out, e)
		i++
	}
	return nil, 0, &posError{d, "probe string has no closing " + string(delim)}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
