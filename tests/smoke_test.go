package tests

import (
	"testing"

	"github.com/scalestack/scalestack/stacks"
)

func TestSmoke(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		r := mustRun(t, stack, stackConfig(t, stack), stacks.Program)
		t.Logf("%s: %d resources, calls %v", stack, len(r.resources), r.calls)
	}
}
