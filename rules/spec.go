package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// fileSpec is one rule file as written.
type fileSpec struct {
	// Calendars are used when the loader is given none (LoadOptions.Calendars): the pack's defaults,
	// and what its tests run against.
	Calendars map[string]calendar.CalendarSpec `yaml:"calendars"`
	Lists     []listSpec                       `yaml:"lists"`
	Macros    []macroSpec                      `yaml:"macros"`
	Rules     []ruleSpec                       `yaml:"rules"`
}

type listSpec struct {
	Name        Text              `yaml:"name"`
	Kind        Text              `yaml:"kind"`
	Description string            `yaml:"description"`
	Items       []string          `yaml:"items"`
	Map         map[string]string `yaml:"map"`
	File        Text              `yaml:"file"`
}

type macroSpec struct {
	Name        Text   `yaml:"name"`
	Description string `yaml:"description"`
	Condition   Text   `yaml:"condition"`
}

type ruleSpec struct {
	ID          Text            `yaml:"id"`
	Title       Title           `yaml:"title"`
	Description string          `yaml:"description"`
	Severity    Text            `yaml:"severity"`
	Tags        []string        `yaml:"tags"`
	Enabled     *bool           `yaml:"enabled"`
	Kind        Text            `yaml:"kind"`
	Condition   Text            `yaml:"condition"`
	Exceptions  []exceptionSpec `yaml:"exceptions"`
	Threshold   *thresholdSpec  `yaml:"threshold"`
	Suppress    *suppressSpec   `yaml:"suppress"`
	Absence     *absenceSpec    `yaml:"absence"`
	Tests       []testSpec      `yaml:"tests"`
	TestsFile   Text            `yaml:"tests_file"`
	pos         Pos
}

type exceptionSpec struct {
	Name      string `yaml:"name"`
	Condition Text   `yaml:"condition"`
}

type thresholdSpec struct {
	MoreThan *int     `yaml:"more_than"`
	AtLeast  *int     `yaml:"at_least"`
	Distinct Text     `yaml:"distinct"`
	By       []Text   `yaml:"by"`
	Within   Duration `yaml:"within"`
	Window   Text     `yaml:"window"` // sliding (default) or tumbling
	pos      Pos
}

type suppressSpec struct {
	For Duration `yaml:"for"`
	By  []Text   `yaml:"by"`
}

type absenceSpec struct {
	By      Text     `yaml:"by"`
	Every   Duration `yaml:"expected_every"`
	Sources Text     `yaml:"sources"` // optional list of keys expected from the start
}

type testSpec struct {
	Rule      string           `yaml:"rule"` // in a tests file: the rule the test is for
	Name      string           `yaml:"name"`
	Event     map[string]any   `yaml:"event"`
	Events    []map[string]any `yaml:"events"`
	Repeat    int              `yaml:"repeat"`
	Every     Duration         `yaml:"every"`
	Increment []string         `yaml:"increment"`
	TickAfter Duration         `yaml:"tick_after"`
	Expect    Text             `yaml:"expect"`
	Alerts    *int             `yaml:"alerts"`
	pos       Pos
}

// Title is a rule's title in Japanese and English.
type Title struct {
	Ja string `yaml:"ja" json:"ja"`
	En string `yaml:"en" json:"en"`
}

// Pos is a position in a rule file.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Text is a YAML string that remembers where it was written, so errors inside it (an expression, a
// name) can point at the right line and column.
type Text struct {
	Value string
	Line  int // line of the value's token (for a block scalar, of the "|" or ">" indicator)
	Col   int
	Block bool // a literal (|) or folded (>) block scalar
	Quote bool // a single- or double-quoted scalar
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (t *Text) UnmarshalYAML(node ast.Node) error {
	if node.Type() == ast.NullType {
		return nil
	}
	var s string
	switch n := node.(type) {
	case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		if err := yaml.NodeToValue(n, &s); err != nil {
			return err
		}
	default:
		return &yaml.SyntaxError{Message: fmt.Sprintf("expected a string, found %s", node.Type()), Token: node.GetToken()}
	}
	tk := node.GetToken()
	*t = Text{Value: s}
	if tk != nil {
		t.Line, t.Col = tk.Position.Line, tk.Position.Column
		t.Quote = tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType
	}
	if _, ok := node.(*ast.LiteralNode); ok {
		t.Block = true
	}
	return nil
}

func (t Text) String() string { return t.Value }

// Duration is a time.Duration written as "90s", "5m", "1h" or "1d".
type Duration struct {
	D    time.Duration
	Line int
	Col  int
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	var s string
	if err := yaml.NodeToValue(node, &s); err != nil {
		return err
	}
	tk := node.GetToken()
	v, err := parseDuration(s)
	if err != nil {
		return &yaml.SyntaxError{Message: err.Error(), Token: tk}
	}
	d.D = v
	if tk != nil {
		d.Line, d.Col = tk.Position.Line, tk.Position.Column
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("duration %q: write a positive duration such as 30s, 5m, 1h or 1d", s)
	}
	return v, nil
}
