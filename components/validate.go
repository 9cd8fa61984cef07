package components

import (
	"errors"
	"fmt"
	"time"
)

// problems collects argument errors so that a constructor can report every one of them at once.
type problems struct {
	component string
	errs      []error
}

func newProblems(component, name string) *problems {
	return &problems{component: fmt.Sprintf("%s %q", component, name)}
}

// addf records one problem; field names the argument, the message says what is allowed and what was given.
func (p *problems) addf(field, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", p.component, field, fmt.Sprintf(format, args...)))
}

// intRange checks lo <= v <= hi.
func (p *problems) intRange(field string, v, lo, hi int) {
	if v < lo || v > hi {
		p.addf(field, "must be between %d and %d, but %d was given", lo, hi, v)
	}
}

// oneOf checks that v is one of allowed.
func (p *problems) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.addf(field, "must be one of %q, but %q was given", allowed, v)
}

// durationRange checks lo <= v <= hi in whole seconds.
func (p *problems) durationRange(field string, v, lo, hi time.Duration) {
	if v < lo || v > hi || v%time.Second != 0 {
		p.addf(field, "must be whole seconds from %s to %s, but %s was given", lo, hi, v)
	}
}

func (p *problems) err() error { return errors.Join(p.errs...) }
