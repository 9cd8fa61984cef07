package tests

import (
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/stacks"
)

// exported is a stack output as the program would export it: its value and whether it is marked secret.
type exported struct {
	Value  any
	Secret bool
}

// runStack runs the whole program as a stack and returns the recorded resources and the outputs it exports.
func runStack(t *testing.T, stack string, config map[string]string) (*recorder, map[string]exported) {
	t.Helper()
	var mu sync.Mutex
	outputs := map[string]exported{}
	want := 0
	r := mustRun(t, stack, config, func(ctx *pulumi.Context) error {
		m, err := stacks.Deploy(ctx)
		if err != nil {
			return err
		}
		want = len(m)
		for k, v := range m {
			o := pulumi.ToOutput(v)
			secret := pulumi.IsSecret(o)
			o.ApplyT(func(x any) any {
				mu.Lock()
				defer mu.Unlock()
				outputs[k] = exported{Value: x, Secret: secret}
				return x
			})
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(outputs) != want {
		t.Fatalf("resolved %d of %d outputs", len(outputs), want)
	}
	return r, outputs
}
