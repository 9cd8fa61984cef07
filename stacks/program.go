package stacks

import (
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// AppPort is the port the app container listens on.
const AppPort = 8080

// CloudFrontOriginFacing is the AWS-managed prefix list of CloudFront's origin-facing addresses: the only
// sources the load balancer admits.
const CloudFrontOriginFacing = "com.amazonaws.global.cloudfront.origin-facing"

// OriginHeader carries the secret CloudFront sends with every request to the load balancer; the load balancer
// answers 403 to requests without it, so other CloudFront distributions cannot reach it either.
const OriginHeader = "X-Origin-Verify"

// Program is the whole scalestack program: it loads and validates the stack's config (registering nothing when
// a value is wrong), composes the components and exports what a user needs.
func Program(ctx *pulumi.Context) error {
	outputs, err := Deploy(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctx.Export(k, outputs[k])
	}
	return nil
}

// Deploy composes the stack and returns the outputs Program exports (tests inspect them directly).
func Deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := Load(ctx)
	if err != nil {
		return nil, err
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{"project": "scalestack", "stack": ctx.Stack()}

	network, err := components.NewNetwork(ctx, "net", &components.NetworkArgs{
		CIDR:              cfg.VPCCIDR,
		AZCount:           cfg.AZCount,
		AvailabilityZones: cfg.AvailabilityZones,
		NATGateways:       cfg.NATGateways,
		FlowLogs:          cfg.FlowLogs,
		Tags:              tags,
	})
	if err != nil {
		return nil, err
	}

	edge, err := newEdge(ctx, cfg, region.Name, network, tags)
	if err != nil {
		return nil, err
	}
	data, err := newDataTier(ctx, cfg, network, tags)
	if err != nil {
		return nil, err
	}
	fleets, err := newFleets(ctx, cfg, region.Name, network, edge.web, data, tags)
	if err != nil {
		return nil, err
	}

	return pulumi.Map{
		"url":                       edge.cdn.URL,
		"cdnDomainName":             edge.cdn.DomainName,
		"assetsBucket":              edge.cdn.AssetsBucket,
		"originUrl":                 edge.web.URL,
		"albDnsName":                edge.web.DNSName,
		"vpcId":                     network.VPCID,
		"availabilityZones":         pulumi.ToStringArray(network.AvailabilityZones),
		"privateSubnetIds":          network.PrivateSubnetIDs,
		"apiGroupName":              fleets.api.GroupName,
		"apiLogGroup":               fleets.api.LogGroupName,
		"workerGroupName":           fleets.worker.GroupName,
		"workerLogGroup":            fleets.worker.LogGroupName,
		"databaseWriterEndpoint":    data.db.WriterAddress,
		"databaseReaderEndpoints":   data.db.ReaderAddresses,
		"redisEndpoint":             data.cache.PrimaryAddress,
		"shardTables":               data.shards.TableNames,
		"jobsQueueUrl":              data.queue.URL,
		"deadLetterQueueUrl":        data.queue.DeadLetterURL,
		"databasePasswordSecretArn": data.db.PasswordSecretARN,
		"redisAuthTokenSecretArn":   data.cache.AuthTokenSecretARN,
		"jwtSigningKeysSecretArn":   data.jwt.ARN,
	}, nil
}

// edge is what faces viewers: CloudFront, and the load balancer behind it.
type edge struct {
	web *components.LoadBalancer
	cdn *components.CDN
}

// newEdge puts CloudFront in front of the load balancer. The load balancer admits only CloudFront's
// origin-facing addresses and, of those, only requests carrying this stack's secret origin header. With a
// domain, viewers use the domain (CloudFront, certificate in us-east-1) and CloudFront reaches the load balancer
// over HTTPS at origin.<domain>, which the load balancer's own certificate covers; without one (dev), CloudFront
// reaches the load balancer's DNS name over HTTP.
func newEdge(ctx *pulumi.Context, cfg Config, region string, network *components.Network, tags map[string]string) (*edge, error) {
	originSecret, err := random.NewRandomPassword(ctx, "origin-verify", &random.RandomPasswordArgs{
		Length: pulumi.Int(48), Special: pulumi.Bool(false),
	})
	if err != nil {
		return nil, err
	}
	cloudfront, err := ec2.LookupManagedPrefixList(ctx, &ec2.LookupManagedPrefixListArgs{Name: pulumi.StringRef(CloudFrontOriginFacing)})
	if err != nil {
		return nil, err
	}
	originDomain := ""
	if cfg.DomainName != "" {
		originDomain = "origin." + cfg.DomainName
	}
	web, err := components.NewLoadBalancer(ctx, "web", &components.LoadBalancerArgs{
		VPCID:                network.VPCID,
		VPCCIDR:              network.CIDR,
		SubnetIDs:            network.PublicSubnetIDs,
		AppPort:              AppPort,
		HealthCheckPath:      "/healthz",
		DeregistrationDelay:  time.Duration(cfg.DeregistrationDelaySeconds) * time.Second,
		DomainName:           originDomain,
		HostedZoneID:         cfg.HostedZoneID,
		DeletionProtection:   cfg.ALBDeletionProtection,
		AccessLogs:           cfg.ALBAccessLogs,
		IngressPrefixListIDs: pulumi.StringArray{pulumi.String(cloudfront.Id)},
		OriginHeaderName:     OriginHeader,
		OriginHeaderValue:    originSecret.Result,
		Tags:                 tags,
	})
	if err != nil {
		return nil, err
	}

	cdnArgs := &components.CDNArgs{
		OriginDomainName:  web.DNSName,
		OriginProtocol:    components.OriginHTTPOnly,
		OriginHeaderName:  OriginHeader,
		OriginHeaderValue: originSecret.Result,
		PriceClass:        cfg.CDNPriceClass,
		Logging:           cfg.CDNLogging,
		Tags:              tags,
	}
	if cfg.DomainName != "" {
		cdnArgs.OriginDomainName = pulumi.String(originDomain)
		cdnArgs.OriginProtocol = components.OriginHTTPSOnly
		cdnArgs.DomainName, cdnArgs.HostedZoneID = cfg.DomainName, cfg.HostedZoneID
		if region != "us-east-1" {
			// CloudFront takes certificates from us-east-1 only.
			useast1, err := aws.NewProvider(ctx, "us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1")})
			if err != nil {
				return nil, err
			}
			cdnArgs.CertificateProvider = useast1
		}
	}
	cdn, err := components.NewCDN(ctx, "cdn", cdnArgs)
	if err != nil {
		return nil, err
	}
	return &edge{web: web, cdn: cdn}, nil
}

// dataTier is the stateful part: cache, database, shard tables, job queue and the app's own secret.
type dataTier struct {
	cache  *components.Cache
	db     *components.Database
	shards *components.ShardedTable
	queue  *components.Queue
	jwt    *components.Secret
}

func newDataTier(ctx *pulumi.Context, cfg Config, network *components.Network, tags map[string]string) (*dataTier, error) {
	var d dataTier
	var err error
	if d.cache, err = components.NewCache(ctx, "cache", &components.CacheArgs{
		VPCID:                 network.VPCID,
		SubnetIDs:             network.PrivateSubnetIDs,
		AvailabilityZones:     network.AvailabilityZones,
		NodeType:              cfg.CacheNodeType,
		Nodes:                 cfg.CacheNodes,
		SnapshotRetentionDays: cfg.CacheSnapshotRetentionDays,
		Tags:                  tags,
	}); err != nil {
		return nil, err
	}
	if d.db, err = components.NewDatabase(ctx, "db", &components.DatabaseArgs{
		VPCID:               network.VPCID,
		SubnetIDs:           network.PrivateSubnetIDs,
		AvailabilityZones:   network.AvailabilityZones,
		InstanceClass:       cfg.DBInstanceClass,
		Replicas:            cfg.DBReplicas,
		StorageGiB:          cfg.DBStorageGiB,
		BackupRetentionDays: cfg.DBBackupRetentionDays,
		MultiAZ:             cfg.DBMultiAZ,
		DeletionProtection:  cfg.DBDeletionProtection,
		FinalSnapshot:       cfg.DBFinalSnapshot,
		PerformanceInsights: cfg.DBPerformanceInsights,
		MonitoringInterval:  time.Duration(cfg.DBMonitoringIntervalSeconds) * time.Second,
		Tags:                tags,
	}); err != nil {
		return nil, err
	}
	if d.shards, err = components.NewShardedTable(ctx, "shards", &components.ShardedTableArgs{
		Shards:             cfg.ShardCount,
		DeletionProtection: cfg.ShardDeletionProtection,
		Tags:               tags,
	}); err != nil {
		return nil, err
	}
	if d.queue, err = components.NewQueue(ctx, "jobs", &components.QueueArgs{
		JobTimeout:      time.Duration(cfg.JobTimeoutSeconds) * time.Second,
		MaxReceiveCount: cfg.JobMaxReceiveCount,
		Tags:            tags,
	}); err != nil {
		return nil, err
	}
	if d.jwt, err = components.NewSecret(ctx, "jwt-keys", &components.SecretArgs{
		Description: "JWT signing keys of the API (JWT_SIGNING_KEYS): comma-separated kid:base64secret, the first signs",
		Prefix:      "k1:",
		RandomBytes: 32,
		Tags:        tags,
	}); err != nil {
		return nil, err
	}
	return &d, nil
}

// joined resolves an ordered list into one comma-separated value.
func joined(list pulumi.StringArray) pulumi.StringOutput {
	return list.ToStringArrayOutput().ApplyT(func(v []string) string { return strings.Join(v, ",") }).(pulumi.StringOutput)
}
