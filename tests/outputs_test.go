package tests

import (
	"errors"
	"sync"
	"testing"
	"time"

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
		// The engine does not wait for applies nobody consumes, so wait for them here (bounded).
		var wg sync.WaitGroup
		for k, v := range m {
			o := pulumi.ToOutput(v)
			secret := pulumi.IsSecret(o)
			wg.Add(1)
			o.ApplyT(func(x any) any {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				outputs[k] = exported{Value: x, Secret: secret}
				return x
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-time.After(30 * time.Second):
			return errors.New("outputs did not resolve within 30 s")
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if len(outputs) != want {
		t.Fatalf("resolved %d of %d outputs", len(outputs), want)
	}
	return r, outputs
}
