package sandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// Redis's cjson library (deps/lua/src/lua_cjson.c, version 2.1.0),
// ported: encode, decode, null, new and the settings, with its
// defaults, its number format (%.14g), its escapes (/ becomes \/), its
// arrays (keys 1 to n, holes as null, an empty table is {}), and its
// error messages. A JSON null decodes to cjson.null, a value of its own.

// jsonConfig is one cjson module's settings.
type jsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	encodeInvalid  int // 0 off, 1 on, 2 null
	decodeInvalid  bool
	keepBuffer     bool
	precision      int
	null           *lua.LUserData
}

// newJSONModule makes a cjson module table (cjson.new makes another).
func newJSONModule(L *lua.LState, null *lua.LUserData) *lua.LTable {
	cfg := &jsonConfig{
		sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		decodeInvalid: true, keepBuffer: true, precision: 14, null: null,
	}
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"encode": func(L *lua.LState) int {
			jsonArgs(L, "encode", 1, 1)
			var b strings.Builder
			cfg.encode(L, &b, L.Get(1), 0)
			L.Push(lua.LString(b.String()))
			return 1
		},
		"decode": func(L *lua.LState) int {
			jsonArgs(L, "decode", 1, 1)
			L.Push(cfg.decode(L, L.CheckString(1)))
			return 1
		},
		"encode_sparse_array": func(L *lua.LState) int {
			jsonArgs(L, "encode_sparse_array", 0, 3)
			jsonBoolOption(L, "encode_sparse_array", 1, &cfg.sparseConvert)
			jsonIntOption(L, "encode_sparse_array", 2, &cfg.sparseRatio, 0, math.MaxInt32)
			jsonIntOption(L, "encode_sparse_array", 3, &cfg.sparseSafe, 0, math.MaxInt32)
			return 3
		},
		"encode_max_depth": func(L *lua.LState) int {
			jsonArgs(L, "encode_max_depth", 0, 1)
			return jsonIntOption(L, "encode_max_depth", 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
		},
		"decode_max_depth": func(L *lua.LState) int {
			jsonArgs(L, "decode_max_depth", 0, 1)
			return jsonIntOption(L, "decode_max_depth", 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
		},
		"encode_number_precision": func(L *lua.LState) int {
			jsonArgs(L, "encode_number_precision", 0, 1)
			return jsonIntOption(L, "encode_number_precision", 1, &cfg.precision, 1, 14)
		},
		"encode_keep_buffer": func(L *lua.LState) int {
			jsonArgs(L, "encode_keep_buffer", 0, 1)
			return jsonBoolOption(L, "encode_keep_buffer", 1, &cfg.keepBuffer)
		},
		"decode_invalid_numbers": func(L *lua.LState) int {
			jsonArgs(L, "decode_invalid_numbers", 0, 1)
			return jsonBoolOption(L, "decode_invalid_numbers", 1, &cfg.decodeInvalid)
		},
		"encode_invalid_numbers": func(L *lua.LState) int {
			jsonArgs(L, "encode_invalid_numbers", 0, 1)
			options := []string{"off", "on", "null"}
			switch v := L.Get(1).(type) {
			case lua.LBool:
				cfg.encodeInvalid = 0
				if v {
					cfg.encodeInvalid = 1
				}
			case *lua.LNilType:
			default:
				i := -1
				for j, o := range options {
					if lua.LVAsString(v) == o {
						i = j
					}
				}
				if i < 0 {
					L.RaiseError("bad argument #1 to 'encode_invalid_numbers' (invalid option '%s')", lua.LVAsString(v))
				}
				cfg.encodeInvalid = i
			}
			if cfg.encodeInvalid == 2 {
				L.Push(lua.LString("null"))
			} else {
				L.Push(lua.LBool(cfg.encodeInvalid == 1))
			}
			return 1
		},
		"new": func(L *lua.LState) int {
			L.Push(newJSONModule(L, null))
			return 1
		},
	})
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// jsonArgs checks the number of arguments as cjson does: exactly one
// for encode and decode (least 1), at most most for a setting.
func jsonArgs(L *lua.LState, fname string, least, most int) {
	switch n := L.GetTop(); {
	case least == 1 && n != 1:
		L.RaiseError("bad argument #1 to '%s' (expected 1 argument)", fname)
	case n > most:
		L.RaiseError("bad argument #%d to '%s' (found too many arguments)", most+1, fname)
	}
}

func jsonIntOption(L *lua.LState, fname string, i int, setting *int, lo, hi int) int {
	if v := L.Get(i); v != lua.LNil {
		n := L.CheckInt(i)
		if n < lo || n > hi {
			L.RaiseError("bad argument #1 to '%s' (expected integer between %d and %d)", fname, lo, hi)
		}
		*setting = n
	}
	L.Push(lua.LNumber(*setting))
	return 1
}

func jsonBoolOption(L *lua.LState, fname string, i int, setting *bool) int {
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
	case lua.LBool:
		*setting = bool(v)
	default:
		switch lua.LVAsString(v) {
		case "on":
			*setting = true
		case "off":
			*setting = false
		default:
			L.RaiseError("bad argument #%d to '%s' (invalid option '%s')", i, fname, lua.LVAsString(v))
		}
	}
	L.Push(lua.LBool(*setting))
	return 1
}

// jsonEscapes is char2escape.
func jsonEscape(c byte) string {
	switch c {
	case '\b':
		return `\b`
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	case '"':
		return `\"`
	case '/':
		return `\/`
	case '\\':
		return `\\`
	case 0x7f:
		return `\u007f`
	}
	if c < 0x20 {
		return fmt.Sprintf(`\u%04x`, c)
	}
	return ""
}

func (cfg *jsonConfig) encodeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if e := jsonEscape(s[i]); e != "" {
			b.WriteString(e)
		} else {
			b.WriteByte(s[i])
		}
	}
	b.WriteByte('"')
}

// encodeFail is json_encode_exception.
func (cfg *jsonConfig) encodeFail(L *lua.LState, v lua.LValue, reason string) {
	L.RaiseError("Cannot serialise %s: %s", v.Type().String(), reason)
}

func (cfg *jsonConfig) encodeNumber(L *lua.LState, b *strings.Builder, n lua.LNumber) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		switch cfg.encodeInvalid {
		case 0:
			cfg.encodeFail(L, n, "must not be NaN or Inf")
		case 2:
			b.WriteString("null")
			return
		}
		if math.IsNaN(f) {
			b.WriteString("nan")
			return
		}
	}
	b.WriteString(strconv.FormatFloat(f, 'g', cfg.precision, 64))
}

func (cfg *jsonConfig) encode(L *lua.LState, b *strings.Builder, v lua.LValue, depth int) {
	switch v := v.(type) {
	case lua.LString:
		cfg.encodeString(b, string(v))
	case lua.LNumber:
		cfg.encodeNumber(L, b, v)
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("null")
	case *lua.LUserData:
		if v != cfg.null {
			cfg.encodeFail(L, v, "type not supported")
		}
		b.WriteString("null")
	case *lua.LTable:
		depth++
		if depth > cfg.encodeMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		if n := cfg.arrayLength(L, v); n > 0 {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				cfg.encode(L, b, v.RawGetInt(i), depth)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		first := true
		luaPairs(v, func(k, val lua.LValue) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch k := k.(type) {
			case lua.LNumber:
				b.WriteByte('"')
				cfg.encodeNumber(L, b, k)
				b.WriteString(`":`)
			case lua.LString:
				cfg.encodeString(b, string(k))
				b.WriteByte(':')
			default:
				cfg.encodeFail(L, k, "table key must be a number or string")
			}
			cfg.encode(L, b, val, depth)
		})
		b.WriteByte('}')
	default:
		cfg.encodeFail(L, v, "type not supported")
	}
}

// arrayLength is lua_array_length: the largest key when every key is
// an integer from 1, else -1; an excessively sparse array is an error
// (or an object, with encode_sparse_array(true)).
func (cfg *jsonConfig) arrayLength(L *lua.LState, t *lua.LTable) int {
	top, items, isArray := 0, 0, true
	luaPairs(t, func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f == 0 || math.Floor(f) != f || f < 1 {
			isArray = false
			return
		}
		top = max(top, int(min(f, math.MaxInt32)))
		items++
	})
	if !isArray {
		return -1
	}
	if cfg.sparseRatio > 0 && top > items*cfg.sparseRatio && top > cfg.sparseSafe {
		if !cfg.sparseConvert {
			cfg.encodeFail(L, t, "excessively sparse array")
		}
		return -1
	}
	return top
}

// The tokens of cjson's decoder, by the names its errors give them.
const (
	tObjBegin = "T_OBJ_BEGIN"
	tObjEnd   = "T_OBJ_END"
	tArrBegin = "T_ARR_BEGIN"
	tArrEnd   = "T_ARR_END"
	tString   = "T_STRING"
	tNumber   = "T_NUMBER"
	tBoolean  = "T_BOOLEAN"
	tNull     = "T_NULL"
	tColon    = "T_COLON"
	tComma    = "T_COMMA"
	tEnd      = "T_END"
	tError    = "T_ERROR"
)

type jsonToken struct {
	kind  string
	index int    // where it starts
	err   string // for tError
	str   string
	num   float64
	b     bool
}

type jsonParser struct {
	L     *lua.LState
	cfg   *jsonConfig
	data  string
	pos   int
	depth int
}

// at is the byte at i, NUL past the end (the C string's terminator).
func (p *jsonParser) at(i int) byte {
	if i < len(p.data) {
		return p.data[i]
	}
	return 0
}

func (p *jsonParser) next() jsonToken {
	for {
		switch p.at(p.pos) {
		case ' ', '\t', '\n', '\r':
			p.pos++
			continue
		}
		break
	}
	t := jsonToken{index: p.pos}
	c := p.at(p.pos)
	single := map[byte]string{'{': tObjBegin, '}': tObjEnd, '[': tArrBegin, ']': tArrEnd, ',': tComma, ':': tColon}
	if k, ok := single[c]; ok {
		p.pos++
		t.kind = k
		return t
	}
	rest := p.data[min(p.pos, len(p.data)):]
	switch {
	case c == 0:
		t.kind = tEnd
	case c == '"':
		p.string(&t)
	case c == '-' || c >= '0' && c <= '9':
		if !p.cfg.decodeInvalid && jsonInvalidNumber(rest) {
			p.fail(&t, "invalid number")
		} else {
			p.number(&t)
		}
	case strings.HasPrefix(rest, "true"):
		t.kind, t.b = tBoolean, true
		p.pos += 4
	case strings.HasPrefix(rest, "false"):
		t.kind = tBoolean
		p.pos += 5
	case strings.HasPrefix(rest, "null"):
		t.kind = tNull
		p.pos += 4
	case strings.ContainsRune("iInN+", rune(c)) && p.cfg.decodeInvalid && jsonInvalidNumber(rest):
		p.number(&t)
	default:
		p.fail(&t, "invalid token")
	}
	return t
}

func (p *jsonParser) fail(t *jsonToken, msg string) {
	t.kind, t.index, t.err = tError, p.pos, msg
}

func (p *jsonParser) string(t *jsonToken) {
	p.pos++
	var b []byte
	for {
		c := p.at(p.pos)
		if c == '"' {
			break
		}
		if c == 0 {
			p.fail(t, "unexpected end of string")
			return
		}
		if c == '\\' {
			esc := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'u': 'u'}
			e, ok := esc[p.at(p.pos+1)]
			if !ok {
				p.fail(t, "invalid escape code")
				return
			}
			if e == 'u' {
				r, n := p.unicode()
				if n == 0 {
					p.fail(t, "invalid unicode escape code")
					return
				}
				b = utf8.AppendRune(b, r)
				p.pos += n
				continue
			}
			c = e
			p.pos++
		}
		b = append(b, c)
		p.pos++
	}
	p.pos++
	t.kind, t.str = tString, string(b)
}

// unicode decodes \uXXXX, or a surrogate pair of two, at pos; it
// returns the code point and the length of the escape, 0 if invalid.
func (p *jsonParser) unicode() (rune, int) {
	hex4 := func(i int) int {
		if i+4 > len(p.data) {
			return -1
		}
		v, err := strconv.ParseUint(p.data[i:i+4], 16, 16)
		if err != nil {
			return -1
		}
		return int(v)
	}
	cp := hex4(p.pos + 2)
	if cp < 0 {
		return 0, 0
	}
	if cp&0xF800 != 0xD800 {
		return rune(cp), 6
	}
	if cp&0x400 != 0 || p.at(p.pos+6) != '\\' || p.at(p.pos+7) != 'u' {
		return 0, 0
	}
	low := hex4(p.pos + 8)
	if low < 0 || low&0xFC00 != 0xDC00 {
		return 0, 0
	}
	return rune((cp&0x3FF)<<10|low&0x3FF) + 0x10000, 12
}

// jsonInvalidNumber is json_is_invalid_number: what strtod reads but
// JSON does not allow (a plus sign, hex, leading zeros, inf, nan).
func jsonInvalidNumber(s string) bool {
	if strings.HasPrefix(s, "+") {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	if strings.HasPrefix(s, "0") {
		return len(s) > 1 && (s[1]|0x20 == 'x' || s[1] >= '0' && s[1] <= '9')
	}
	if s != "" && s[0] <= '9' {
		return false
	}
	l := strings.ToLower(s[:min(3, len(s))])
	return l == "inf" || l == "nan"
}

// number reads a number as strtod does: the longest prefix that is one.
func (p *jsonParser) number(t *jsonToken) {
	s := p.data[p.pos:]
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	lower := strings.ToLower(s[i:])
	var f float64
	switch {
	case strings.HasPrefix(lower, "infinity"):
		i, f = i+8, math.Inf(1)
	case strings.HasPrefix(lower, "inf"):
		i, f = i+3, math.Inf(1)
	case strings.HasPrefix(lower, "nan"):
		i, f = i+3, math.NaN()
	case strings.HasPrefix(lower, "0x") && len(lower) > 2 && isLowerHex(lower[2]):
		j := i + 2
		for j < len(s) && isLowerHex(s[j]|0x20) {
			j++
		}
		v, _ := strconv.ParseUint(s[i+2:j], 16, 64)
		i, f = j, float64(v)
	default:
		j := i
		digits := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j, digits = j+1, digits+1
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j, digits = j+1, digits+1
			}
		}
		if digits == 0 {
			p.fail(t, "invalid number")
			return
		}
		if j < len(s) && s[j]|0x20 == 'e' {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && s[k] >= '0' && s[k] <= '9' {
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				j = k
			}
		}
		f, _ = strconv.ParseFloat(s[i:j], 64)
		i = j
	}
	if s[0] == '-' {
		f = -f
	}
	p.pos += i
	t.kind, t.num = tNumber, f
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func (p *jsonParser) expected(what string, t jsonToken) {
	found := t.kind
	if t.kind == tError {
		found = t.err
	}
	p.L.RaiseError("Expected %s but found %s at character %d", what, found, t.index+1)
}

func (p *jsonParser) descend() {
	p.depth++
	if p.depth > p.cfg.decodeMaxDepth {
		p.L.RaiseError("Found too many nested data structures (%d) at character %d", p.depth, p.pos)
	}
}

func (p *jsonParser) value(t jsonToken) lua.LValue {
	switch t.kind {
	case tString:
		return lua.LString(t.str)
	case tNumber:
		return lua.LNumber(t.num)
	case tBoolean:
		return lua.LBool(t.b)
	case tNull:
		return p.cfg.null
	case tObjBegin:
		p.descend()
		obj := p.L.NewTable()
		t = p.next()
		if t.kind == tObjEnd {
			p.depth--
			return obj
		}
		for {
			if t.kind != tString {
				p.expected("object key string", t)
			}
			key := t.str
			if t = p.next(); t.kind != tColon {
				p.expected("colon", t)
			}
			obj.RawSetString(key, p.value(p.next()))
			t = p.next()
			if t.kind == tObjEnd {
				p.depth--
				return obj
			}
			if t.kind != tComma {
				p.expected("comma or object end", t)
			}
			t = p.next()
		}
	case tArrBegin:
		p.descend()
		arr := p.L.NewTable()
		t = p.next()
		if t.kind == tArrEnd {
			p.depth--
			return arr
		}
		for i := 1; ; i++ {
			arr.RawSetInt(i, p.value(t))
			t = p.next()
			if t.kind == tArrEnd {
				p.depth--
				return arr
			}
			if t.kind != tComma {
				p.expected("comma or array end", t)
			}
			t = p.next()
		}
	}
	p.expected("value", t)
	return lua.LNil
}

func (cfg *jsonConfig) decode(L *lua.LState, s string) lua.LValue {
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		L.RaiseError("JSON parser does not support UTF-16 or UTF-32")
	}
	p := &jsonParser{L: L, cfg: cfg, data: s}
	v := p.value(p.next())
	if t := p.next(); t.kind != tEnd {
		p.expected("the end", t)
	}
	return v
}
