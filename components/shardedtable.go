package components

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MaxShards bounds ShardedTableArgs.Shards.
const MaxShards = 64

// ShardedTableArgs configures a ShardedTable.
type ShardedTableArgs struct {
	// Shards is how many tables exist, 1 to MaxShards. Growing it appends tables; shrinking it would delete the
	// last ones with their data, so a stack refuses that through deletion protection in prod.
	Shards int
	// PartitionKey and SortKey name the string key attributes of every shard. Default: pk and sk.
	PartitionKey, SortKey string
	// TTLAttribute names the attribute holding an item's expiry time (epoch seconds). Default: expires_at.
	TTLAttribute string
	// DeletionProtection keeps every table from being deleted. Default: off.
	DeletionProtection bool
	// Tags are added to every table. Default: none.
	Tags map[string]string
}

// ShardedTable is N DynamoDB tables with one key schema. Their ordered names are the shard list the app hashes
// keys onto: position = shard number. Table i is always the child named name-shard-i with the same inputs, so
// adding shards never renames or replaces an existing table.
type ShardedTable struct {
	pulumi.ResourceState

	// TableNames is the shard list: table names in shard order.
	TableNames pulumi.StringArray
	// TableARNs are the tables' ARNs in shard order (for IAM policies).
	TableARNs pulumi.StringArray
}

var attributeName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

func (a ShardedTableArgs) withDefaults() ShardedTableArgs {
	if a.PartitionKey == "" {
		a.PartitionKey = "pk"
	}
	if a.SortKey == "" {
		a.SortKey = "sk"
	}
	if a.TTLAttribute == "" {
		a.TTLAttribute = "expires_at"
	}
	return a
}

func (a ShardedTableArgs) validate(name string) error {
	p := newProblems("ShardedTable", name)
	p.intRange("Shards", a.Shards, 1, MaxShards)
	for _, f := range []struct{ field, v string }{
		{"PartitionKey", a.PartitionKey}, {"SortKey", a.SortKey}, {"TTLAttribute", a.TTLAttribute},
	} {
		if !attributeName.MatchString(f.v) {
			p.addf(f.field, "must be an attribute name matching %s, but %q was given", attributeName, f.v)
		}
	}
	if a.PartitionKey == a.SortKey {
		p.addf("SortKey", "must differ from PartitionKey (%q), but %q was given", a.PartitionKey, a.SortKey)
	}
	if a.TTLAttribute == a.PartitionKey || a.TTLAttribute == a.SortKey {
		p.addf("TTLAttribute", "must not be a key attribute, but %q was given", a.TTLAttribute)
	}
	return p.err()
}

// NewShardedTable registers a ShardedTable.
func NewShardedTable(ctx *pulumi.Context, name string, args *ShardedTableArgs, opts ...pulumi.ResourceOption) (*ShardedTable, error) {
	var a ShardedTableArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	s := &ShardedTable{}
	if err := ctx.RegisterComponentResource(shardedTableType, name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	tags := tagger(name, a.Tags)

	for i := 0; i < a.Shards; i++ {
		role := fmt.Sprintf("shard-%d", i)
		table, err := dynamodb.NewTable(ctx, name+"-"+role, &dynamodb.TableArgs{
			BillingMode: pulumi.String("PAY_PER_REQUEST"),
			HashKey:     pulumi.String(a.PartitionKey),
			RangeKey:    pulumi.String(a.SortKey),
			Attributes: dynamodb.TableAttributeArray{
				dynamodb.TableAttributeArgs{Name: pulumi.String(a.PartitionKey), Type: pulumi.String("S")},
				dynamodb.TableAttributeArgs{Name: pulumi.String(a.SortKey), Type: pulumi.String("S")},
			},
			PointInTimeRecovery:       &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
			ServerSideEncryption:      &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
			Ttl:                       &dynamodb.TableTtlArgs{AttributeName: pulumi.String(a.TTLAttribute), Enabled: pulumi.Bool(true)},
			DeletionProtectionEnabled: pulumi.Bool(a.DeletionProtection),
			Tags:                      tags(role),
		}, parent)
		if err != nil {
			return nil, err
		}
		s.TableNames = append(s.TableNames, table.Name)
		s.TableARNs = append(s.TableARNs, table.Arn)
	}

	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"tableNames": s.TableNames}); err != nil {
		return nil, err
	}
	return s, nil
}
