package tests

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func newShardedTable(args *components.ShardedTableArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := components.NewShardedTable(ctx, "events", args)
		return err
	}
}

func TestShardedTableByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newShardedTable(&components.ShardedTableArgs{Shards: 3}))
	tables := r.ofType("aws:dynamodb/table:Table")
	if got, want := r.names("aws:dynamodb/table:Table"), []string{"events-shard-0", "events-shard-1", "events-shard-2"}; !cmp.Equal(got, want) {
		t.Fatalf("tables: want %v, got %v", want, got)
	}
	for _, tb := range tables {
		checks := map[string]any{
			"billingMode":                  "PAY_PER_REQUEST",
			"hashKey":                      "pk",
			"rangeKey":                     "sk",
			"pointInTimeRecovery.enabled":  true,
			"serverSideEncryption.enabled": true,
			"ttl.attributeName":            "expires_at",
			"ttl.enabled":                  true,
			"deletionProtectionEnabled":    false,
		}
		for path, want := range checks {
			if diff := cmp.Diff(want, tb.get(path)); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", tb.Name, path, diff)
			}
		}
		if n := len(tb.list("attributes")); n != 2 {
			t.Errorf("%s: want exactly the two key attributes, got %v", tb.Name, tb.get("attributes"))
		}
	}
}

// TestShardedTableGrowsByAppending: going from 4 to 5 shards adds one table and leaves the first four's logical
// names and inputs exactly as they were, so nothing is renamed or replaced and the shard list only grows.
func TestShardedTableGrowsByAppending(t *testing.T) {
	before := mustRun(t, "prod", nil, newShardedTable(&components.ShardedTableArgs{Shards: 4, DeletionProtection: true}))
	after := mustRun(t, "prod", nil, newShardedTable(&components.ShardedTableArgs{Shards: 5, DeletionProtection: true}))
	b, a := before.ofType("aws:dynamodb/table:Table"), after.ofType("aws:dynamodb/table:Table")
	if len(b) != 4 || len(a) != 5 {
		t.Fatalf("want 4 then 5 tables, got %d then %d", len(b), len(a))
	}
	for i := 0; i < 4; i++ {
		if a[i].Name != b[i].Name || a[i].Name != fmt.Sprintf("events-shard-%d", i) {
			t.Errorf("shard %d: logical name changed from %q to %q", i, b[i].Name, a[i].Name)
		}
		if diff := cmp.Diff(b[i].Inputs, a[i].Inputs); diff != "" {
			t.Errorf("shard %d: inputs changed when a shard was added (-before +after):\n%s", i, diff)
		}
	}
	if a[4].Name != "events-shard-4" || a[4].get("deletionProtectionEnabled") != true {
		t.Errorf("new shard: got %s %v", a[4].Name, a[4].Inputs)
	}
}

func TestShardedTableRejects(t *testing.T) {
	tests := []struct {
		name string
		give *components.ShardedTableArgs
		want []string
	}{
		{"no args", nil, []string{"Shards: must be between 1 and 64, but 0 was given"}},
		{"zero shards", &components.ShardedTableArgs{Shards: 0}, []string{"Shards: must be between 1 and 64, but 0 was given"}},
		{"too many", &components.ShardedTableArgs{Shards: 65}, []string{"Shards: must be between 1 and 64, but 65 was given"}},
		{"same keys", &components.ShardedTableArgs{Shards: 2, PartitionKey: "id", SortKey: "id"}, []string{`SortKey: must differ from PartitionKey ("id"), but "id" was given`}},
		{"ttl on key", &components.ShardedTableArgs{Shards: 2, TTLAttribute: "pk"}, []string{`TTLAttribute: must not be a key attribute, but "pk" was given`}},
		{"bad name and count", &components.ShardedTableArgs{Shards: -1, PartitionKey: "p k"}, []string{"Shards:", `PartitionKey: must be an attribute name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newShardedTable(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
