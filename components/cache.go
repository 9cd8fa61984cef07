package components

import (
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RedisPort is the port of every Cache.
const RedisPort = 6379

// CacheArgs configures a Cache.
type CacheArgs struct {
	// VPCID is the VPC of the cache.
	VPCID pulumi.StringInput
	// SubnetIDs are private subnets, one per availability zone.
	SubnetIDs pulumi.StringArray
	// AvailabilityZones are the zones of SubnetIDs; node i goes to zone i mod len (the first node is the
	// primary). Default: ElastiCache places the nodes.
	AvailabilityZones []string
	// NodeType is the ElastiCache node type. Default: cache.t4g.micro.
	NodeType string
	// Nodes is the primary plus its replicas, 1 to 6. With 2 or more, a replica in another zone takes over
	// automatically when the primary fails (automatic failover, Multi-AZ). Default: 1.
	Nodes int
	// EngineVersion is the Redis version, 7.0 or 7.1. Default: 7.1.
	EngineVersion string
	// SnapshotRetentionDays is how long daily snapshots are kept, 1 to 35. Default: 1.
	SnapshotRetentionDays int
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// Cache is an ElastiCache Redis replication group in private subnets: encrypted at rest and in transit, AUTH
// token generated and kept in Secrets Manager, evicting least-recently-used keys when full, reachable only on
// 6379 from the groups admitted with AdmitFrom.
type Cache struct {
	pulumi.ResourceState

	// PrimaryAddress is the primary endpoint's host name; URL is rediss://PrimaryAddress:6379 (no token).
	PrimaryAddress pulumi.StringOutput
	URL            pulumi.StringOutput
	// AuthTokenSecretARN is the Secrets Manager secret holding the AUTH token (a plain string).
	AuthTokenSecretARN pulumi.StringOutput
	// SecurityGroupID is the nodes' group.
	SecurityGroupID pulumi.StringOutput

	name string
}

var nodeType = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)

func (a CacheArgs) withDefaults() CacheArgs {
	if a.NodeType == "" {
		a.NodeType = "cache.t4g.micro"
	}
	if a.Nodes == 0 {
		a.Nodes = 1
	}
	if a.EngineVersion == "" {
		a.EngineVersion = "7.1"
	}
	if a.SnapshotRetentionDays == 0 {
		a.SnapshotRetentionDays = 1
	}
	return a
}

func (a CacheArgs) validate(name string) error {
	p := newProblems("Cache", name)
	if a.VPCID == nil {
		p.addf("VPCID", "is required")
	}
	if len(a.SubnetIDs) == 0 {
		p.addf("SubnetIDs", "must name at least one private subnet, but none was given")
	}
	if !nodeType.MatchString(a.NodeType) {
		p.addf("NodeType", "must be an ElastiCache node type such as cache.t4g.micro, but %q was given", a.NodeType)
	}
	p.intRange("Nodes", a.Nodes, 1, 6)
	if a.Nodes >= 2 && len(a.SubnetIDs) < 2 {
		p.addf("SubnetIDs", "must span at least 2 availability zones for a Multi-AZ group of %d nodes, but %d were given", a.Nodes, len(a.SubnetIDs))
	}
	p.oneOf("EngineVersion", a.EngineVersion, "7.0", "7.1")
	p.intRange("SnapshotRetentionDays", a.SnapshotRetentionDays, 1, 35)
	return p.err()
}

// NewCache registers a Cache.
func NewCache(ctx *pulumi.Context, name string, args *CacheArgs, opts ...pulumi.ResourceOption) (*Cache, error) {
	var a CacheArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	c := &Cache{name: name}
	if err := ctx.RegisterComponentResource(cacheType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagger(name, a.Tags)

	sg, err := clientOnlyGroup(ctx, name, "Redis: 6379 from the admitted app groups only", a.VPCID, tags, parent)
	if err != nil {
		return nil, err
	}
	c.SecurityGroupID = sg.ID().ToStringOutput()
	subnets, err := elasticache.NewSubnetGroup(ctx, name+"-subnets", &elasticache.SubnetGroupArgs{
		Description: pulumi.String("private subnets of " + name),
		SubnetIds:   a.SubnetIDs,
		Tags:        tags("subnets"),
	}, parent)
	if err != nil {
		return nil, err
	}
	params, err := elasticache.NewParameterGroup(ctx, name+"-params", &elasticache.ParameterGroupArgs{
		Family:      pulumi.String("redis7"),
		Description: pulumi.String("scalestack cache: evict least-recently-used keys when full"),
		Parameters: elasticache.ParameterGroupParameterArray{
			elasticache.ParameterGroupParameterArgs{Name: pulumi.String("maxmemory-policy"), Value: pulumi.String("allkeys-lru")},
		},
		Tags: tags("params"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// ElastiCache takes 16 to 128 characters.
	token, tokenARN, err := generatedPassword(ctx, name+"-auth-token", 64, "Redis AUTH token of "+name+" (REDIS_AUTH_TOKEN)", tags, parent)
	if err != nil {
		return nil, err
	}
	c.AuthTokenSecretARN = tokenARN

	ha := a.Nodes >= 2
	groupArgs := &elasticache.ReplicationGroupArgs{
		Description:              pulumi.String("scalestack cache " + name),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(a.EngineVersion),
		NodeType:                 pulumi.String(a.NodeType),
		NumCacheClusters:         pulumi.Int(a.Nodes),
		Port:                     pulumi.Int(RedisPort),
		ParameterGroupName:       params.Name,
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		TransitEncryptionEnabled: pulumi.Bool(true),
		AuthToken:                token,
		AutomaticFailoverEnabled: pulumi.Bool(ha),
		MultiAzEnabled:           pulumi.Bool(ha),
		SnapshotRetentionLimit:   pulumi.Int(a.SnapshotRetentionDays),
		SnapshotWindow:           pulumi.String("02:00-03:00"),
		MaintenanceWindow:        pulumi.String("sun:05:30-sun:06:30"),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		Tags:                     tags("redis"),
	}
	if n := len(a.AvailabilityZones); n > 0 {
		var azs pulumi.StringArray
		for i := 0; i < a.Nodes; i++ {
			azs = append(azs, pulumi.String(a.AvailabilityZones[i%n]))
		}
		groupArgs.PreferredCacheClusterAzs = azs
	}
	group, err := elasticache.NewReplicationGroup(ctx, name+"-redis", groupArgs, parent)
	if err != nil {
		return nil, err
	}
	c.PrimaryAddress = group.PrimaryEndpointAddress
	c.URL = pulumi.Sprintf("rediss://%s:%d", group.PrimaryEndpointAddress, RedisPort)

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"primaryAddress": c.PrimaryAddress, "url": c.URL}); err != nil {
		return nil, err
	}
	return c, nil
}

// AdmitFrom lets one client group (an app fleet's) reach the cache on 6379. client names the rule
// (name-from-client).
func (c *Cache) AdmitFrom(ctx *pulumi.Context, client string, securityGroupID pulumi.StringInput) error {
	return admitFrom(ctx, c, c.name, c.SecurityGroupID, RedisPort, client, securityGroupID)
}
