package rules

import (
	"errors"
	"fmt"
	"github.com/agnivade/levenshtein"
	"slices"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/goccy/go-yaml"
)

// Diagnostic severities.
const (
	DiagError   = "error"
	DiagWarning = "warning"
)

// Diagnostic is one finding about a rule file: where, how bad, about which rule, and what to do.
type Diagnostic struct {
	Pos
	Severity string `json:"severity"`
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	b.WriteString(d.Severity)
	b.WriteString(": ")
	if d.Rule != "" {
		b.WriteString("rule ")
		b.WriteString(d.Rule)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics is a list of findings; as an error it lists the errors among them.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	var lines []string
	for _, d := range ds {
		if d.Severity == DiagError {
			lines = append(lines, d.String())
		}
	}
	return strings.Join(lines, "\n")
}

// Errors returns the errors only, or nil.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == DiagError {
			out = append(out, d)
		}
	}
	return out
}

func (ds Diagnostics) sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// diags collects diagnostics while loading.
type diags struct{ list Diagnostics }

func (d *diags) add(pos Pos, sev, rule, format string, a ...any) {
	d.list = append(d.list, Diagnostic{Pos: pos, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, a...)})
}

func (d *diags) errorf(pos Pos, rule, format string, a ...any) {
	d.add(pos, DiagError, rule, format, a...)
}
func (d *diags) warnf(pos Pos, rule, format string, a ...any) {
	d.add(pos, DiagWarning, rule, format, a...)
}

func (d *diags) failed() bool { return len(d.list.Errors()) > 0 }

// yamlError turns a YAML decoding error into a diagnostic at its token.
func yamlError(path string, err error) Diagnostic {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tk := ye.GetToken()
		msg := ye.GetMessage()
		var uf *yaml.UnknownFieldError
		if errors.As(err, &uf) {
			msg += ": check the spelling; see the format in rules/doc.go"
		}
		return Diagnostic{Pos: Pos{File: path, Line: tk.Position.Line, Column: tk.Position.Column}, Severity: DiagError, Message: msg}
	}
	return Diagnostic{Pos: Pos{File: path}, Severity: DiagError, Message: "not valid YAML: " + err.Error()}
}

// exprPos maps an expression error at a rune offset inside a Text written in a file to file:line:col.
func exprPos(path string, src []string, t Text, offset int) Pos {
	p := Pos{File: path, Line: t.Line, Column: t.Col}
	if !t.Block {
		p.Column += offset
		if t.Quote {
			p.Column++
		}
		return p
	}
	// A block scalar: its content starts on the line after the indicator. Both | and > turn each line
	// break into one character, so the offset advances by the line's length plus one.
	for ln := t.Line; ln < len(src); ln++ { // src[ln] is file line ln+1
		line := src[ln]
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		n := len([]rune(trimmed))
		if trimmed == "" {
			continue
		}
		if offset <= n {
			return Pos{File: path, Line: ln + 1, Column: indent + offset + 1}
		}
		offset -= n + 1
	}
	return p
}

// hint adds what to do to expr's own messages.
func hint(msg string, macros map[string]*Macro) string {
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		var cands []string
		for _, f := range fieldNames() {
			cands = append(cands, strings.SplitN(f, ".", 2)[0])
		}
		for _, f := range functionDocs {
			cands = append(cands, f.Name)
		}
		for m := range macros {
			cands = append(cands, m)
		}
		return msg + closest(name, cands) + ": use an event field (source.ip …), a macro or a function"
	}
	if i := strings.Index(msg, " has no field "); i >= 0 && strings.HasPrefix(msg, "type ") {
		name := msg[i+len(" has no field "):]
		var cands []string
		for _, f := range fieldNames() {
			parts := strings.Split(f, ".")
			cands = append(cands, parts[len(parts)-1])
		}
		return msg + closest(name, cands)
	}
	if strings.Contains(msg, "mismatched types") {
		return msg + ": compare like with like (numbers without quotes, text in quotes)"
	}
	return msg
}

func closest(name string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := levenshtein.ComputeDistance(name, c); d < bestD && c != name {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// exprMessage is the message of an expression error without expr's own snippet, which points into the
// expression rather than the file.
func exprMessage(err error) (string, int) {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message, fe.From
	}
	var ee *exprError
	if errors.As(err, &ee) {
		return ee.Msg, ee.From
	}
	return err.Error(), 0
}
