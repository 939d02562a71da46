package sandbox

import (
	"encoding/binary"
	"errors"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// msgpackFuncs is Redis's cmsgpack library (deps/lua/src/lua_cmsgpack.c):
// pack, unpack, unpack_one and unpack_limit, with its encodings (a
// number that is an integer packs as one, in the smallest form; another
// as a float when a float holds it exactly, else as a double; a table
// packs as an array when its keys are 1 to n, else as a map).
var msgpackFuncs = map[string]lua.LGFunction{
	"pack":         msgpackPack,
	"unpack":       func(L *lua.LState) int { return msgpackUnpack(L, 0, 0) },
	"unpack_one":   func(L *lua.LState) int { return msgpackUnpack(L, 1, L.OptInt(2, 0)) },
	"unpack_limit": func(L *lua.LState) int { return msgpackUnpack(L, L.CheckInt(2), L.OptInt(3, 0)) },
}

const msgpackMaxNesting = 16 // LUACMSGPACK_MAX_NESTING

func msgpackPack(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.RaiseError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
	}
	var b []byte
	for i := 1; i <= L.GetTop(); i++ {
		b = msgpackEncode(b, L.Get(i), 0)
	}
	L.Push(lua.LString(b))
	return 1
}

func msgpackEncode(b []byte, v lua.LValue, level int) []byte {
	if _, ok := v.(*lua.LTable); ok && level == msgpackMaxNesting {
		v = lua.LNil
	}
	switch v := v.(type) {
	case lua.LString:
		n := len(v)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(b, v...)
	case lua.LBool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if !math.IsInf(f, 0) && !math.IsNaN(f) && f >= -(1<<63) && f < 1<<63 && float64(int64(f)) == f {
			return msgpackInt(b, int64(f))
		}
		if float64(float32(f)) == f {
			return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(float32(f)))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
	case *lua.LTable:
		if n, ok := msgpackArrayLen(v); ok {
			b = msgpackLen(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(b, v.RawGetInt(i), level+1)
			}
			return b
		}
		var keys, values []lua.LValue
		luaPairs(v, func(k, val lua.LValue) { keys, values = append(keys, k), append(values, val) })
		b = msgpackLen(b, len(keys), 0x80, 0xde, 0xdf)
		for i := range keys {
			b = msgpackEncode(b, keys[i], level+1)
			b = msgpackEncode(b, values[i], level+1)
		}
		return b
	}
	return append(b, 0xc0)
}

// msgpackArrayLen is table_is_an_array: whether the keys are exactly
// 1 to n.
func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, top, ok := 0, 0, true
	luaPairs(t, func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !isNum || n <= 0 || float64(n) != math.Trunc(float64(n)) || n > math.MaxInt32 {
			ok = false
			return
		}
		count++
		top = max(top, int(n))
	})
	return count, ok && top == count
}

func msgpackLen(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func msgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 127:
		return append(b, byte(n))
	case n >= 0 && n <= 0xff:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// What Redis's cmsgpack says, byte for byte.
//
//lint:ignore ST1005 Redis's own text
var errMsgpackEOF = errors.New("Missing bytes in input.")

//lint:ignore ST1005 Redis's own text
var errMsgpackFormat = errors.New("Bad data format in input.")

// A msgpackReader decodes from a string.
type msgpackReader struct {
	L *lua.LState
	s []byte
}

func (r *msgpackReader) need(n int) error {
	if len(r.s) < n {
		return errMsgpackEOF
	}
	return nil
}

func (r *msgpackReader) take(n int) []byte {
	p := r.s[:n]
	r.s = r.s[n:]
	return p
}

func (r *msgpackReader) decode() (lua.LValue, error) {
	if err := r.need(1); err != nil {
		return lua.LNil, err
	}
	c := r.s[0]
	fixed := map[byte]int{0xcc: 1, 0xd0: 1, 0xcd: 2, 0xd1: 2, 0xce: 4, 0xd2: 4,
		0xcf: 8, 0xd3: 8, 0xca: 4, 0xcb: 8}
	if n, ok := fixed[c]; ok {
		if err := r.need(1 + n); err != nil {
			return lua.LNil, err
		}
		p := r.take(1 + n)[1:]
		switch c {
		case 0xcc:
			return lua.LNumber(p[0]), nil
		case 0xd0:
			return lua.LNumber(int8(p[0])), nil
		case 0xcd:
			return lua.LNumber(binary.BigEndian.Uint16(p)), nil
		case 0xd1:
			return lua.LNumber(int16(binary.BigEndian.Uint16(p))), nil
		case 0xce:
			return lua.LNumber(binary.BigEndian.Uint32(p)), nil
		case 0xd2:
			return lua.LNumber(int32(binary.BigEndian.Uint32(p))), nil
		case 0xcf:
			return lua.LNumber(binary.BigEndian.Uint64(p)), nil
		case 0xd3:
			return lua.LNumber(int64(binary.BigEndian.Uint64(p))), nil
		case 0xca:
			return lua.LNumber(math.Float32frombits(binary.BigEndian.Uint32(p))), nil
		default:
			return lua.LNumber(math.Float64frombits(binary.BigEndian.Uint64(p))), nil
		}
	}
	switch {
	case c == 0xc0:
		r.take(1)
		return lua.LNil, nil
	case c == 0xc2 || c == 0xc3:
		r.take(1)
		return lua.LBool(c == 0xc3), nil
	case c == 0xd9 || c == 0xda || c == 0xdb:
		size := map[byte]int{0xd9: 1, 0xda: 2, 0xdb: 4}[c]
		n, err := r.length(size)
		if err != nil {
			return lua.LNil, err
		}
		return r.str(n)
	case c == 0xdc || c == 0xdd || c == 0xde || c == 0xdf:
		size := 2
		if c == 0xdd || c == 0xdf {
			size = 4
		}
		n, err := r.length(size)
		if err != nil {
			return lua.LNil, err
		}
		return r.table(n, c >= 0xde)
	case c&0x80 == 0:
		r.take(1)
		return lua.LNumber(c), nil
	case c&0xe0 == 0xe0:
		r.take(1)
		return lua.LNumber(int8(c)), nil
	case c&0xe0 == 0xa0:
		if err := r.need(1 + int(c&0x1f)); err != nil {
			return lua.LNil, err
		}
		r.take(1)
		return lua.LString(r.take(int(c & 0x1f))), nil
	case c&0xf0 == 0x90 || c&0xf0 == 0x80:
		r.take(1)
		return r.table(int(c&0xf), c&0xf0 == 0x80)
	}
	return lua.LNil, errMsgpackFormat
}

// length reads the type byte and a big-endian length of size bytes.
func (r *msgpackReader) length(size int) (int, error) {
	if err := r.need(1 + size); err != nil {
		return 0, err
	}
	p := r.take(1 + size)[1:]
	n := 0
	for _, x := range p {
		n = n<<8 | int(x)
	}
	return n, nil
}

func (r *msgpackReader) str(n int) (lua.LValue, error) {
	if err := r.need(n); err != nil {
		return lua.LNil, err
	}
	return lua.LString(r.take(n)), nil
}

func (r *msgpackReader) table(n int, isMap bool) (lua.LValue, error) {
	t := r.L.NewTable()
	for i := 1; i <= n; i++ {
		var k lua.LValue = lua.LNumber(i)
		if isMap {
			var err error
			if k, err = r.decode(); err != nil {
				return lua.LNil, err
			}
		}
		v, err := r.decode()
		if err != nil {
			return lua.LNil, err
		}
		if k != lua.LNil {
			t.RawSet(k, v)
		}
	}
	return t, nil
}

// msgpackUnpack is mp_unpack_full: with no limit and no offset, every
// value; else at most limit values from offset, after the offset to go
// on from (-1 at the end).
func msgpackUnpack(L *lua.LState, limit, offset int) int {
	s := L.CheckString(1)
	all := limit == 0 && offset == 0
	switch {
	case offset < 0 || limit < 0:
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	case offset > len(s):
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if all {
		limit = math.MaxInt32
	}
	r := &msgpackReader{L: L, s: []byte(s[offset:])}
	var values []lua.LValue
	for len(r.s) > 0 && len(values) < limit {
		v, err := r.decode()
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		values = append(values, v)
	}
	if !all {
		next := len(s) - len(r.s)
		if len(r.s) == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range values {
		L.Push(v)
	}
	if !all {
		return len(values) + 1
	}
	return len(values)
}
