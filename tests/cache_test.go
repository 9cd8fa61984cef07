package tests

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// newCache runs a cache with the given args in a two-AZ network, admitting an "api" and a "worker" group.
func newCache(args components.CacheArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if args.VPCID == nil {
			args.VPCID = pulumi.String("vpc-1")
		}
		if args.SubnetIDs == nil {
			args.SubnetIDs = pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b")}
		}
		c, err := components.NewCache(ctx, "cache", &args)
		if err != nil {
			return err
		}
		if err := c.AdmitFrom(ctx, "api", pulumi.String("sg-api")); err != nil {
			return err
		}
		return c.AdmitFrom(ctx, "worker", pulumi.String("sg-worker"))
	}
}

func TestCacheByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newCache(components.CacheArgs{}))
	group := r.one(t, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-redis")
	for path, want := range map[string]any{
		"engine":                   "redis",
		"numCacheClusters":         float64(1),
		"nodeType":                 "cache.t4g.micro",
		"atRestEncryptionEnabled":  true,
		"transitEncryptionEnabled": true,
		"automaticFailoverEnabled": false,
		"multiAzEnabled":           false,
		"port":                     float64(6379),
		"snapshotRetentionLimit":   float64(1),
	} {
		if diff := cmp.Diff(want, group.get(path)); diff != "" {
			t.Errorf("replication group %s (-want +got):\n%s", path, diff)
		}
	}
	if len(r.secrets) != 1 || group.str("authToken") != r.secrets[0] || !group.Secret["authToken"] {
		t.Errorf("want the generated token as the AUTH token, marked secret; got %q (secret %v, secrets %v)", group.str("authToken"), group.Secret["authToken"], r.secrets)
	}
	if r.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "cache-auth-token-secret-value").str("secretString") != r.secrets[0] {
		t.Errorf("the AUTH token must be stored in Secrets Manager")
	}
	params := r.one(t, "aws:elasticache/parameterGroup:ParameterGroup", "cache-params")
	if params.str("parameters.0.name") != "maxmemory-policy" || params.str("parameters.0.value") != "allkeys-lru" || group.str("parameterGroupName") == "" {
		t.Errorf("parameter group: want maxmemory-policy allkeys-lru in use, got %v", params.Inputs)
	}
	if group.str("subnetGroupName") == "" || !cmp.Equal(asStrings(group.get("securityGroupIds")), []string{"cache-sg-id"}) {
		t.Errorf("want a private subnet group and only the cache's group, got %v", group.Inputs)
	}
	if sg := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "cache-sg"); len(sg.list("ingress")) != 0 {
		t.Errorf("cache group: want no inline ingress, got %v", sg.get("ingress"))
	}
	rules := r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	var from []string
	for _, rule := range rules {
		if rule.num("fromPort") != 6379 || rule.num("toPort") != 6379 || rule.str("securityGroupId") != "cache-sg-id" || rule.str("cidrIpv4") != "" {
			t.Errorf("%s: want 6379 from one group, got %v", rule.Name, rule.Inputs)
		}
		from = append(from, rule.str("referencedSecurityGroupId"))
	}
	if !cmp.Equal(from, []string{"sg-api", "sg-worker"}) {
		t.Errorf("want 6379 admitted from the api and worker groups only, got %v", from)
	}
}

func TestCacheHighlyAvailable(t *testing.T) {
	r := mustRun(t, "prod", nil, newCache(components.CacheArgs{
		Nodes: 2, NodeType: "cache.m7g.large", SnapshotRetentionDays: 7,
		SubnetIDs:         pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b"), pulumi.String("subnet-c")},
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
	}))
	group := r.one(t, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-redis")
	if group.num("numCacheClusters") != 2 || group.get("automaticFailoverEnabled") != true || group.get("multiAzEnabled") != true || group.num("snapshotRetentionLimit") != 7 {
		t.Errorf("want 2 nodes with automatic failover, Multi-AZ and 7 days of snapshots, got %v", group.Inputs)
	}
	if !cmp.Equal(asStrings(group.get("preferredCacheClusterAzs")), []string{"us-east-1a", "us-east-1b"}) {
		t.Errorf("want the nodes in two AZs, got %v", group.get("preferredCacheClusterAzs"))
	}
}

func TestCacheRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.CacheArgs
		want []string
	}{
		{"too many nodes", components.CacheArgs{Nodes: 7}, []string{"Nodes: must be between 1 and 6, but 7 was given"}},
		{"HA in one AZ", components.CacheArgs{Nodes: 2, SubnetIDs: pulumi.StringArray{pulumi.String("subnet-a")}}, []string{"SubnetIDs: must span at least 2 availability zones for a Multi-AZ group of 2 nodes, but 1 were given"}},
		{"bad node type and version", components.CacheArgs{NodeType: "t4g.micro", EngineVersion: "6.2"}, []string{`NodeType: must be an ElastiCache node type`, `EngineVersion: must be one of ["7.0" "7.1"], but "6.2" was given`}},
		{"snapshots too long", components.CacheArgs{SnapshotRetentionDays: 36}, []string{"SnapshotRetentionDays: must be between 1 and 35, but 36 was given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newCache(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
