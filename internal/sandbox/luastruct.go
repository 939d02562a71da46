package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// structFuncs is Redis's struct library (deps/lua/src/lua_struct.c,
// Roberto Ierusalimschy's struct.c), as it behaves on a 64-bit
// little-endian machine: pack, unpack and size, with the format
// options > < ! x b B h H l L T i I c s f d and blanks.
var structFuncs = map[string]lua.LGFunction{
	"pack":   structPack,
	"unpack": structUnpack,
	"size":   structSize,
}

const (
	structMaxIntSize = 32 // MAXINTSIZE
	structMaxAlign   = 8  // MAXALIGN
)

// A structFormat walks a format string.
type structFormat struct {
	L      *lua.LState
	fname  string // pack, unpack or size
	fmt    string
	i      int
	little bool // endianness of what follows
	align  int  // maximum alignment
}

func newStructFormat(L *lua.LState, fname string) *structFormat {
	return &structFormat{L: L, fname: fname, fmt: L.CheckString(1), little: true, align: 1}
}

// structError raises an error as luaL_error does: with the script's
// position.
func structError(L *lua.LState, format string, a ...any) {
	L.RaiseError("%s", fmt.Sprintf(format, a...))
}

// structArgError is luaL_argerror.
func structArgError(L *lua.LState, arg int, fname, msg string) {
	structError(L, "bad argument #%d to '%s' (%s)", arg, fname, msg)
}

func (f *structFormat) more() bool { return f.i < len(f.fmt) }

// num is getnum: the digits that follow, or df.
func (f *structFormat) num(df int) int {
	if !f.more() || f.fmt[f.i] < '0' || f.fmt[f.i] > '9' {
		return df
	}
	a := 0
	for f.more() && f.fmt[f.i] >= '0' && f.fmt[f.i] <= '9' {
		d := int(f.fmt[f.i] - '0')
		if a > (math.MaxInt32/10) || a*10 > math.MaxInt32-d {
			structError(f.L, "integral size overflow")
		}
		a = a*10 + d
		f.i++
	}
	return a
}

// next reads an option and returns it with its size (optsize).
func (f *structFormat) next() (byte, int) {
	opt := f.fmt[f.i]
	f.i++
	switch opt {
	case 'b', 'B', 'x':
		return opt, 1
	case 'h', 'H':
		return opt, 2
	case 'l', 'L', 'T', 'd':
		return opt, 8
	case 'f':
		return opt, 4
	case 'c':
		return opt, f.num(1)
	case 'i', 'I':
		sz := f.num(4)
		if sz > structMaxIntSize {
			structError(f.L, "integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return opt, sz
	}
	return opt, 0
}

// toAlign is gettoalign: the padding before an item of size at pos.
func (f *structFormat) toAlign(pos, size int, opt byte) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	size = min(size, f.align)
	return (size - (pos & (size - 1))) & (size - 1)
}

// control handles the options that are not items (controloptions).
func (f *structFormat) control(opt byte) {
	switch opt {
	case ' ':
	case '>':
		f.little = false
	case '<':
		f.little = true
	case '!':
		a := f.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			structError(f.L, "alignment %d is not a power of 2", a)
		}
		f.align = a
	default:
		structArgError(f.L, 1, f.fname, fmt.Sprintf("invalid format option '%c'", opt))
	}
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L, "pack")
	var b bytes.Buffer
	arg := 2
	for f.more() {
		opt, size := f.next()
		for range f.toAlign(b.Len(), size, opt) {
			b.WriteByte(0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(L.CheckNumber(arg))
			arg++
			var v uint64
			if n < 0 {
				v = uint64(int64(n))
			} else {
				v = uint64(n)
			}
			buf := make([]byte, size)
			for i := range size {
				j := i
				if !f.little {
					j = size - 1 - i
				}
				buf[j] = byte(v)
				v >>= 8
			}
			b.Write(buf)
		case 'x':
			b.WriteByte(0)
		case 'f', 'd':
			n := float64(L.CheckNumber(arg))
			arg++
			buf := make([]byte, 8)
			order := binary.ByteOrder(binary.LittleEndian)
			if !f.little {
				order = binary.BigEndian
			}
			if opt == 'f' {
				buf = buf[:4]
				order.PutUint32(buf, math.Float32bits(float32(n)))
			} else {
				order.PutUint64(buf, math.Float64bits(n))
			}
			b.Write(buf)
		case 'c', 's':
			s := L.CheckString(arg)
			arg++
			if size == 0 || opt == 's' {
				size = len(s)
			}
			if len(s) < size {
				structArgError(L, arg, "pack", "string too short")
			}
			b.WriteString(s[:size])
			if opt == 's' {
				b.WriteByte(0)
			}
		default:
			f.control(opt)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func structUnpack(L *lua.LState) int {
	f := newStructFormat(L, "unpack")
	data := L.CheckString(2)
	pos := L.OptInt(3, 1)
	if pos <= 0 {
		structArgError(L, 3, "unpack", "offset must be 1 or greater")
	}
	pos--
	n := 0
	for f.more() {
		opt, size := f.next()
		pos += f.toAlign(pos, size, opt)
		if size > len(data) || pos > len(data)-size {
			structArgError(L, 2, "unpack", "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			var v uint64
			for i := range size {
				j := size - 1 - i
				if !f.little {
					j = i
				}
				v = v<<8 | uint64(data[pos+j])
			}
			if opt >= 'a' { // signed
				if size*8-1 < 64 {
					if mask := ^uint64(0) << (size*8 - 1); v&mask != 0 {
						v |= mask
					}
				}
				L.Push(lua.LNumber(int64(v)))
			} else {
				L.Push(lua.LNumber(v))
			}
			n++
		case 'x':
		case 'f', 'd':
			order := binary.ByteOrder(binary.LittleEndian)
			if !f.little {
				order = binary.BigEndian
			}
			if opt == 'f' {
				L.Push(lua.LNumber(math.Float32frombits(order.Uint32([]byte(data[pos : pos+4])))))
			} else {
				L.Push(lua.LNumber(math.Float64frombits(order.Uint64([]byte(data[pos : pos+8])))))
			}
			n++
		case 'c':
			if size == 0 {
				prev, ok := L.Get(-1).(lua.LNumber)
				if n == 0 || !ok {
					structError(L, "format 'c0' needs a previous size")
				}
				size = int(prev)
				L.Pop(1)
				n--
				if size > len(data) || pos > len(data)-size {
					structArgError(L, 2, "unpack", "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
			n++
		case 's':
			e := bytes.IndexByte([]byte(data[pos:]), 0)
			if e < 0 {
				structError(L, "unfinished string in data")
			}
			size = e + 1
			L.Push(lua.LString(data[pos : pos+e]))
			n++
		default:
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L, "size")
	pos := 0
	for f.more() {
		opt, size := f.next()
		pos += f.toAlign(pos, size, opt)
		switch {
		case opt == 's':
			structArgError(L, 1, "size", "option 's' has no fixed size")
		case opt == 'c' && size == 0:
			structArgError(L, 1, "size", "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
