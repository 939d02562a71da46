package sandbox

import (
	"bytes"
	"errors"
)

// errUnbalancedQuotes is what splitArgs returns for a line that real
// Redis refuses with "Protocol error: unbalanced quotes in request".
var errUnbalancedQuotes = errors.New("unbalanced quotes")

// splitArgs splits one inline request line into arguments exactly as
// Redis does (sdssplitargs in sds.c): arguments are separated by blanks;
// "double quotes" understand \n \r \t \b \a \xHH and \<any byte>;
// 'single quotes' understand only \'; a quote may open in the middle of
// an argument, but a closing quote must be followed by a blank or the
// end of the line. The line is read as a C string: it ends at its first
// NUL byte. An empty or all-blank line gives no arguments.
func splitArgs(line []byte) ([][]byte, error) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	// at mimics *p in C: past the end reads the terminating NUL.
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	var args [][]byte
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p == len(line) {
			return args, nil
		}
		cur := []byte{}
		inDouble, inSingle, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inDouble:
				switch {
				case c == '\\' && at(p+1) == 'x' &&
					isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					cur = append(cur, unescape(at(p)))
				case c == '"':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return nil, errUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, errUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			case inSingle:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return nil, errUnbalancedQuotes
					}
					done = true
				case c == 0:
					return nil, errUnbalancedQuotes
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		args = append(args, cur)
	}
}

// isSpace is C's isspace in the "C" locale, which Redis runs under. Note
// that \v and \f separate arguments only before one starts: inside an
// unquoted argument they are ordinary bytes, as in Redis.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
