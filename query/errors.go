package query

import (
	"errors"
	"fmt"

	"github.com/zonewatch/zonewatch/query/filter"
)

// ErrorKind classifies query errors, so that callers (the HTTP API) can answer with the right status.
type ErrorKind int

// Error kinds.
const (
	ErrInternal   ErrorKind = iota // the store failed (500)
	ErrBadQuery                    // the query or its filter is wrong (400)
	ErrTooLarge                    // over a limit: range, rows, buckets, filter size (413)
	ErrUnpushable                  // the filter has parts that cannot run where they would need to (422)
	ErrForbidden                   // outside the caller's scope (403)
	ErrTimeout                     // max_execution_time or the context's deadline (504)
	ErrNotFound                    // no such alert, or not one the caller may see (404)
	ErrConflict                    // the alert's status does not allow the action (409)
)

func (k ErrorKind) String() string {
	return [...]string{"internal", "bad_query", "too_large", "unpushable", "forbidden", "timeout", "not_found", "conflict"}[k]
}

// Error is a failed query: what failed and what to do.
type Error struct {
	Kind ErrorKind
	Msg  string
	// Filter is set when the filter did not compile: it has the position.
	Filter *filter.Error
	// Residuals are the parts of the filter that could not be pushed down (ErrUnpushable).
	Residuals []filter.Residual
	Err       error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Filter == nil {
		return "query: " + e.Msg + ": " + e.Err.Error()
	}
	return "query: " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err (ErrInternal for errors that are not *Error).
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ErrInternal
}

func badQuery(format string, a ...any) error {
	return &Error{Kind: ErrBadQuery, Msg: fmt.Sprintf(format, a...)}
}

func tooLarge(format string, a ...any) error {
	return &Error{Kind: ErrTooLarge, Msg: fmt.Sprintf(format, a...)}
}

// wrapFilter classifies a filter compilation error: limits are ErrTooLarge, the rest ErrBadQuery.
func wrapFilter(err error) error {
	var fe *filter.Error
	if !errors.As(err, &fe) {
		return &Error{Kind: ErrBadQuery, Msg: "filter", Err: err}
	}
	kind := ErrBadQuery
	if fe.Limit {
		kind = ErrTooLarge
	}
	return &Error{Kind: kind, Msg: fe.Error(), Filter: fe, Err: err}
}
