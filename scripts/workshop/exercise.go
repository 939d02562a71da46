package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"
)

// marker starts the paragraph that make workshop adds to a lesson's
// package comment: a main.go that has it is an exercise.
const marker = "Workshop exercise:"

// isExercise says whether a main.go is an exercise.
func isExercise(src []byte) bool {
	return bytes.Contains(src, []byte("// "+marker))
}

// exercise turns a lesson's reference main.go into its exercise: the
// package comment and the imports stay; each function keeps its
// comment and signature, and its body becomes numbered TODOs, one for
// each comment of the reference's body, followed by what that part
// prints and which helpers of conn.go it calls; a function that
// returns values returns zero values after saying, through fail, that
// it is still a TODO. The packages the reference imports stay in use
// through one line each at the end. plumbing lists the functions of
// conn.go; output is what the lesson prints, shown after main's TODOs.
func exercise(name string, ref []byte, plumbing []string, output, outputFrom string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", ref, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var b bytes.Buffer

	// The package comment, with the workshop's paragraph, and the
	// imports, as they are.
	if f.Doc == nil {
		return nil, fmt.Errorf("%s/main.go has no package comment", name)
	}
	b.Write(ref[:off(f.Doc.End())])
	fmt.Fprintf(&b, "\n//\n// %s", wrap(fmt.Sprintf("%s write the functions below "+
		"from their TODOs, then run `make check %s`. conn.go has the plumbing "+
		"they call: %s. `make solutions` brings back the reference.",
		marker, name[:2], strings.Join(plumbing, ", ")), 64, "// "))
	end := off(f.Name.End())
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			end = off(g.End())
		}
	}
	b.Write(ref[off(f.Doc.End()):end])
	b.WriteString("\n")

	todo, cursor := 0, 0
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			start := d.Pos()
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			fmt.Fprintf(&b, "\n%s\n", ref[off(start):off(d.End())])
		case *ast.FuncDecl:
			start := d.Pos()
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			fmt.Fprintf(&b, "\n%s\n", ref[off(start):off(d.Body.Lbrace)+1])
			for i, step := range steps(fset, f, ref, d.Body, plumbing, output, &cursor) {
				todo++
				if i > 0 {
					b.WriteString("\t//\n")
				}
				fmt.Fprintf(&b, "\t// TODO %d: %s\n", todo, wrap(step, 60, "\t// "))
			}
			if d.Name.Name == "main" && output != "" {
				fmt.Fprintf(&b, "\t//\n\t// When it works, `go run ./%s` prints (%s):\n", name, outputFrom)
				for line := range strings.Lines(output) {
					fmt.Fprintf(&b, "\t//\t%s", line)
				}
			}
			if d.Type.Results != nil {
				fmt.Fprintf(&b, "\tfail(%q)\n\treturn %s\n",
					d.Name.Name+" in main.go is still a TODO",
					zeros(ref, fset, d.Type.Results))
			}
			b.WriteString("}\n")
		}
	}

	// Keep every import in use, by the symbol the reference uses first.
	draft := b.Bytes()
	uses := keepers(f, ref, fset, draft)
	if len(uses) > 0 {
		b.WriteString("\n// The packages the reference solution uses. Delete a line once\n" +
			"// your code uses its package.\nvar (\n")
		for _, u := range uses {
			fmt.Fprintf(&b, "\t_ = %s\n", u)
		}
		b.WriteString(")\n")
	}
	return format.Source(b.Bytes())
}

// steps are a body's TODOs: each comment at the top level of the body
// starts one; the code after it, with any comments inside it, belongs
// to it; code before the first comment is a step of its own. Each
// step ends with what its code prints, in the order a run prints it
// (output, the lesson's main story, says which line each print
// makes), the error texts it fails with, which the scripts check word
// for word, and the calls it makes: to conn.go's functions, the
// file's own and the standard library's. The output's lines before
// *cursor were printed by the steps before: a print names the next
// line it makes, and moves the cursor past it.
func steps(fset *token.FileSet, f *ast.File, src []byte, body *ast.BlockStmt,
	plumbing []string, output string, cursor *int) []string {
	type step struct {
		text  []string
		stmts []ast.Node
	}
	var ss []*step
	cur := &step{}
	used := map[*ast.CommentGroup]bool{}
	for _, st := range body.List {
		for _, c := range f.Comments {
			if used[c] || c.Pos() < body.Lbrace || c.End() > st.Pos() {
				continue
			}
			used[c] = true
			if len(cur.text) > 0 || len(cur.stmts) > 0 {
				ss = append(ss, cur)
				cur = &step{}
			}
			cur.text = append(cur.text, c.Text())
		}
		cur.stmts = append(cur.stmts, st)
		// Comments inside the statement, or at its line's end.
		line := fset.Position(st.End()).Line
		for _, c := range f.Comments {
			if !used[c] && c.Pos() > st.Pos() && (c.End() < st.End() ||
				fset.Position(c.Pos()).Line == line) {
				used[c] = true
				cur.text = append(cur.text, c.Text())
			}
		}
	}
	ss = append(ss, cur)
	own := map[string]bool{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name != "main" {
			own[fd.Name.Name] = true
		}
	}
	source := func(n ast.Node) string {
		return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
	}
	// short is a call as written, when it is short enough to say.
	short := func(call *ast.CallExpr, name string) string {
		if text := source(call); len(text) <= 40 && !strings.Contains(text, "\n") {
			return strings.ReplaceAll(text, " ", nbsp)
		}
		return name + "()"
	}
	outLines := strings.Split(strings.TrimSuffix(output, "\n"), "\n")
	var out []string
	for _, s := range ss {
		var text []string
		for _, t := range s.text {
			t = strings.Join(strings.Fields(t), " ")
			if t != "" && !strings.ContainsAny(t[len(t)-1:], ".:!?") {
				t += "."
			}
			text = append(text, t)
		}
		var prints []printed
		var errs, calls, uses, builds, says []string
		sends := false
		var stack []ast.Node
		for _, n := range s.stmts {
			ast.Inspect(n, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				stack = append(stack, n)
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok {
						switch {
						case id.Name == "fail":
							errs = appendNew(errs, firstString(n))
							calls = appendNew(calls, "fail()")
						case slices.Contains(plumbing, id.Name) || own[id.Name]:
							calls = appendNew(calls, short(n, id.Name))
							sends = sends || id.Name == "send"
						}
						return true
					}
					fn, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					x, ok := fn.X.(*ast.Ident)
					if !ok {
						return true
					}
					switch {
					case x.Name == "fmt" && fn.Sel.Name == "Errorf" ||
						x.Name == "errors" && fn.Sel.Name == "New":
						errs = appendNew(errs, firstString(n))
					case x.Name == "fmt" && fn.Sel.Name == "Sprintf" && len(n.Args) > 1:
						// A text the lesson builds and judges with, as
						// the confirmation that 03 expects.
						if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							builds = appendNew(builds, "fmt.Sprintf("+lit.Value+", "+
								strings.Join(slices.Collect(func(yield func(string) bool) {
									for _, a := range n.Args[1:] {
										if !yield(source(a)) {
											return
										}
									}
								}), ", ")+")")
						}
					case x.Name == "fmt" && strings.HasPrefix(fn.Sel.Name, "Fprint") &&
						len(n.Args) > 1 && source(n.Args[0]) == "os.Stderr":
						// A line on stderr that is no failure: the
						// scripts check it too.
						if text := firstString(&ast.CallExpr{Args: n.Args[1:]}); text != "" {
							says = appendNew(says, strconv.Quote(text))
						}
					case x.Name == "fmt" && strings.HasPrefix(fn.Sel.Name, "Print"):
						prints = append(prints, printOf(n.Args, fn.Sel.Name, stack, source))
					case x.Name == "fmt" && strings.HasPrefix(fn.Sel.Name, "Fprint") &&
						len(n.Args) > 1 && source(n.Args[0]) != "os.Stderr":
						// To a writer: a print only when it makes lines
						// of the output (06's Send: and Received:).
						p := printOf(n.Args[1:], fn.Sel.Name, stack, source)
						p.writer = true
						prints = append(prints, p)
					case !isImport(f, x.Name) && (x.Name == "conn" ||
						strings.HasSuffix(fn.Sel.Name, "Deadline")):
						// What the lesson does to its connection:
						// conn.Close(), conn.SetDeadline(time.Time{}).
						calls = appendNew(calls, short(n, source(fn)))
						sends = sends || fn.Sel.Name == "Write"
						return false
					}
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Obj == nil && isImport(f, x.Name) &&
						!(x.Name == "fmt" && (strings.HasPrefix(n.Sel.Name, "Print") ||
							strings.HasPrefix(n.Sel.Name, "Fprint") || n.Sel.Name == "Errorf")) {
						uses = appendNew(uses, x.Name+"."+n.Sel.Name)
					}
				}
				return true
			})
		}
		errs = slices.DeleteFunc(errs, func(e string) bool { return e == "" })
		if len(prints) > 0 {
			if what := inRunOrder(prints, outLines, cursor, sends); what != "" {
				text = append(text, "Print "+what+".")
			}
		}
		if len(errs) > 0 {
			for i, e := range errs {
				errs[i] = strconv.Quote(e)
			}
			text = append(text, "Its errors, word for word (the tests check "+
				"them): "+strings.Join(errs, ", ")+".")
		}
		if len(builds) > 0 {
			text = append(text, "It builds, word for word: "+strings.Join(builds, ", ")+".")
		}
		if len(says) > 0 {
			text = append(text, "On stderr, word for word (the tests check it): "+
				strings.Join(says, ", ")+".")
		}
		if len(calls) > 0 || len(uses) > 0 {
			text = append(text, "Uses "+strings.Join(append(calls, uses...), ", ")+".")
		}
		if len(text) > 0 {
			out = append(out, strings.Join(text, " "))
		}
	}
	return out
}

// printed is one print of a step: its format, and whether it only
// happens once Ctrl-C has ended the program's wait.
type printed struct {
	format string
	ctrlC  bool
	writer bool // fmt.Fprint*, to something else than stdout maybe
}

// printOf is the print that a call to fmt.fn with args makes; stack
// holds the nodes around it.
func printOf(args []ast.Expr, fn string, stack []ast.Node, source func(ast.Node) string) printed {
	var p printed
	if lit, ok := args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
		p.format, _ = strconv.Unquote(lit.Value)
		if strings.HasSuffix(fn, "ln") {
			p.format += "\n"
		}
	}
	for _, n := range stack {
		if is, ok := n.(*ast.IfStmt); ok && (strings.Contains(source(is.Cond), "ctx.") ||
			strings.Contains(source(is.Cond), "interrupted()")) {
			p.ctrlC = true
		}
	}
	return p
}

// inRunOrder says what prints print, in the order that a run prints
// them: each as the next line of the lesson's output it makes, from
// *cursor on, with the format that makes it; else as its format. A
// line of a Send: print is the bytes to send, when the step sends.
func inRunOrder(prints []printed, output []string, cursor *int, sends bool) string {
	type item struct {
		text string
		at   int
	}
	var items []item
	at := -1
	for _, p := range prints {
		if p.format == "" {
			continue
		}
		head, _, verb := strings.Cut(p.format, "%")
		line := strings.TrimSuffix(p.format, "\n")
		text, found := strconv.Quote(line), false
		for i, l := range output {
			switch {
			case !verb && l == line:
				at, found = i, true
			case verb && head != "" && i >= *cursor && strings.HasPrefix(l, head):
				at, found, *cursor = i, true, i+1
				text = "`" + l + "` (with " + strconv.Quote(p.format) + ")"
				if sends && head == "Send: " {
					text += " and send those bytes"
				}
			default:
				continue
			}
			break
		}
		if verb && !found {
			text = strconv.Quote(p.format)
		}
		if p.writer && !found {
			continue
		}
		if p.ctrlC {
			text += " on Ctrl-C"
		}
		if !slices.ContainsFunc(items, func(it item) bool { return it.text == text }) {
			items = append(items, item{text, at})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.at - b.at })
	var texts []string
	for _, it := range items {
		texts = append(texts, it.text)
	}
	return strings.Join(texts, ", then ")
}

// firstString is a call's first argument when it is a string literal.
func firstString(call *ast.CallExpr) string {
	if len(call.Args) == 0 {
		return ""
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		if b, ok := call.Args[0].(*ast.BinaryExpr); ok && b.Op == token.ADD {
			l, lok := b.X.(*ast.BasicLit)
			r, rok := b.Y.(*ast.BasicLit)
			if lok && rok && l.Kind == token.STRING && r.Kind == token.STRING {
				ls, _ := strconv.Unquote(l.Value)
				rs, _ := strconv.Unquote(r.Value)
				return ls + rs
			}
		}
		return ""
	}
	s, _ := strconv.Unquote(lit.Value)
	return s
}

// isImport says whether name is a package the file imports.
func isImport(f *ast.File, name string) bool {
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if imp.Name != nil && imp.Name.Name == name || imp.Name == nil && path.Base(p) == name {
			return true
		}
	}
	return false
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// wrap breaks text into lines of about width runes, each after the
// first starting with prefix.
// A quoted string is never broken: a line may be longer instead.
func wrap(text string, width int, prefix string) string {
	var b strings.Builder
	n := 0
	for i, w := range words(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteString("\n" + prefix)
			n = 0
		} else if i > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(strings.ReplaceAll(w, nbsp, " "))
		n += len(w)
	}
	return b.String()
}

// nbsp is a blank that wrap never breaks a line at: the blanks of a
// call, send(conn, msg).
const nbsp = "\x01"

// words splits text on blanks, except inside "..." (with Go's
// escapes) and `...`.
func words(text string) []string {
	var ws []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote == '"' && c == '\\' && i+1 < len(text):
			cur.WriteByte(c)
			i++
			c = text[i]
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '`'):
			quote = c
		case quote == 0 && (c == ' ' || c == '\t' || c == '\n'):
			if cur.Len() > 0 {
				ws = append(ws, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		ws = append(ws, cur.String())
	}
	return ws
}

// zeros is the zero value of each result type, as Go source.
func zeros(src []byte, fset *token.FileSet, results *ast.FieldList) string {
	var zs []string
	for _, field := range results.List {
		z := "*new(" + string(src[fset.Position(field.Type.Pos()).Offset:fset.Position(field.Type.End()).Offset]) + ")"
		switch t := field.Type.(type) {
		case *ast.Ident:
			switch t.Name {
			case "string":
				z = `""`
			case "bool":
				z = "false"
			case "error", "any":
				z = "nil"
			case "int", "int8", "int16", "int32", "int64", "uint", "uint8",
				"uint16", "uint32", "uint64", "byte", "rune", "float32", "float64":
				z = "0"
			}
		case *ast.StarExpr, *ast.ArrayType, *ast.MapType, *ast.ChanType,
			*ast.FuncType, *ast.InterfaceType:
			if a, ok := t.(*ast.ArrayType); !ok || a.Len == nil {
				z = "nil"
			}
		}
		n := max(len(field.Names), 1)
		for range n {
			zs = append(zs, z)
		}
	}
	return strings.Join(zs, ", ")
}

// keepers returns, for each import that the draft exercise does not
// use, the first use of it in the reference that stands as a value:
// fmt.Printf, os.Args, time.Time{}.
func keepers(f *ast.File, ref []byte, fset *token.FileSet, draft []byte) []string {
	df, err := parser.ParseFile(token.NewFileSet(), "draft.go", draft, 0)
	if err != nil {
		return nil
	}
	usedIn := func(file *ast.File, name string) bool {
		found := false
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name {
					found = true
				}
			}
			return !found
		})
		return found
	}
	var keep []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" || name == "." || usedIn(df, name) {
			continue
		}
		if use := firstValueUse(f, name); use != "" {
			keep = append(keep, use)
		} else if use := firstUse(f, name); use != "" {
			keep = append(keep, "new("+use+")") // a type: strings.Builder
		}
	}
	return keep
}

// firstUse finds the first pkg.Name of the file.
func firstUse(f *ast.File, pkg string) string {
	use := ""
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && use == "" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
				use = pkg + "." + sel.Sel.Name
			}
		}
		return use == ""
	})
	return use
}

// firstValueUse finds the first pkg.Name of the file that is a value:
// called, an argument, assigned, indexed, or a composite literal's
// type (then it is written with {}).
func firstValueUse(f *ast.File, pkg string) string {
	use := ""
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if use != "" {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if sel, ok := n.(*ast.SelectorExpr); ok && len(stack) > 0 {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
				text := pkg + "." + sel.Sel.Name
				switch p := stack[len(stack)-1].(type) {
				case *ast.CompositeLit:
					if p.Type == sel {
						use = text + "{}"
					}
				case *ast.CallExpr, *ast.AssignStmt, *ast.IndexExpr,
					*ast.BinaryExpr, *ast.ReturnStmt, *ast.ValueSpec,
					*ast.SliceExpr, *ast.UnaryExpr, *ast.KeyValueExpr:
					if vs, ok := p.(*ast.ValueSpec); !ok || vs.Type != sel {
						use = text
					}
				}
			}
		}
		stack = append(stack, n)
		return true
	})
	return use
}
