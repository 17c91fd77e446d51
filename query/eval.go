package query

import (
	"fmt"

	"github.com/expr-lang/expr"

	"github.com/zonewatch/zonewatch/internal/event"
)

// ExprEvaluator is an Evaluator that compiles filters with expr over event.Event. Options add
// functions: give it the rule engine's (inCIDR, offHours …) so that residuals mean what they mean
// in rules.
type ExprEvaluator struct {
	Options []expr.Option
}

// Compile implements Evaluator.
func (x ExprEvaluator) Compile(src string) (func(*event.Event) (bool, error), error) {
	opts := append([]expr.Option{expr.Env(event.Event{}), expr.AsBool()}, x.Options...)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	return func(e *event.Event) (bool, error) {
		v, err := expr.Run(prog, *e)
		if err != nil {
			return false, fmt.Errorf("evaluate %q: %w", src, err)
		}
		b, _ := v.(bool)
		return b, nil
	}, nil
}
