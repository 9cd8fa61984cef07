package tests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scalestack/scalestack/stacks"
)

// envLine finds one variable's value in rendered user data (printf '%s=%s\n' NAME 'value').
func envLine(ud, name string) (string, bool) {
	m := regexp.MustCompile(`printf '%s=%s\\n' ` + name + ` '([^']*)'`).FindStringSubmatch(ud)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// TestDataTierStacks asserts the data and async tier on the dev and prod stacks as users deploy them.
func TestDataTierStacks(t *testing.T) {
	tests := []struct {
		stack          string
		wantAZs        int
		wantCacheNodes float64
		wantReplicas   int
		wantBackups    float64
		wantShards     int
		wantProd       bool
		wantPriceClass string
		wantWorkerMin  float64
	}{
		{stack: "dev", wantAZs: 2, wantCacheNodes: 1, wantReplicas: 1, wantBackups: 1, wantShards: 2, wantPriceClass: "PriceClass_100", wantWorkerMin: 0},
		{stack: "prod", wantAZs: 3, wantCacheNodes: 2, wantReplicas: 2, wantBackups: 7, wantShards: 4, wantProd: true, wantPriceClass: "PriceClass_All", wantWorkerMin: 1},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			r, outputs := runStack(t, tt.stack, stackConfig(t, tt.stack))

			// Cache.
			redis := r.one(t, "aws:elasticache/replicationGroup:ReplicationGroup", "cache-redis")
			if redis.num("numCacheClusters") != tt.wantCacheNodes || redis.get("automaticFailoverEnabled") != tt.wantProd || redis.get("multiAzEnabled") != tt.wantProd ||
				redis.get("atRestEncryptionEnabled") != true || redis.get("transitEncryptionEnabled") != true || redis.str("authToken") == "" || redis.num("snapshotRetentionLimit") < 1 {
				t.Errorf("cache: want %v nodes, failover/Multi-AZ %v, encryption, AUTH and snapshots; got %v", tt.wantCacheNodes, tt.wantProd, redis.Inputs)
			}

			// Database: primary plus replicas over the AZs.
			primary := r.one(t, "aws:rds/instance:Instance", "db-primary")
			if primary.num("backupRetentionPeriod") < tt.wantBackups || primary.get("multiAz") != tt.wantProd || primary.get("deletionProtection") != tt.wantProd ||
				primary.get("skipFinalSnapshot") == tt.wantProd || primary.get("performanceInsightsEnabled") != tt.wantProd || (primary.num("monitoringInterval") > 0) != tt.wantProd {
				t.Errorf("database primary: want backups >= %v days and prod settings %v, got %v", tt.wantBackups, tt.wantProd, primary.Inputs)
			}
			if primary.get("publiclyAccessible") != false || primary.get("storageEncrypted") != true || primary.str("storageType") != "gp3" || primary.str("engineVersion") != "16" {
				t.Errorf("database primary: want private, encrypted gp3 PostgreSQL 16, got %v", primary.Inputs)
			}
			replicas := r.ofType("aws:rds/instance:Instance")[1:]
			zones := map[string]bool{}
			for _, rep := range replicas {
				zones[rep.str("availabilityZone")] = true
				if rep.str("replicateSourceDb") != "db-primary-abc123" {
					t.Errorf("%s: want a replica of the primary, got %v", rep.Name, rep.Inputs)
				}
			}
			if len(replicas) != tt.wantReplicas || len(zones) != tt.wantReplicas {
				t.Errorf("want %d replicas in as many AZs, got %d in %v", tt.wantReplicas, len(replicas), zones)
			}

			// Shard tables.
			var shardNames []string
			for _, tb := range r.ofType("aws:dynamodb/table:Table") {
				shardNames = append(shardNames, tb.Name)
				if tb.get("deletionProtectionEnabled") != tt.wantProd || tb.get("pointInTimeRecovery.enabled") != true || tb.str("billingMode") != "PAY_PER_REQUEST" {
					t.Errorf("%s: want on-demand, PITR, deletion protection %v; got %v", tb.Name, tt.wantProd, tb.Inputs)
				}
			}
			if len(shardNames) != tt.wantShards {
				t.Errorf("want %d shard tables, got %v", tt.wantShards, shardNames)
			}

			// Queue and workers.
			jobs := r.one(t, "aws:sqs/queue:Queue", "jobs-jobs")
			var redrive struct{ MaxReceiveCount int }
			if err := json.Unmarshal([]byte(jobs.str("redrivePolicy")), &redrive); err != nil || redrive.MaxReceiveCount != 5 ||
				jobs.num("visibilityTimeoutSeconds") != 60+30 || jobs.num("receiveWaitTimeSeconds") != 20 || jobs.get("sqsManagedSseEnabled") != true ||
				r.one(t, "aws:sqs/queue:Queue", "jobs-dlq").num("messageRetentionSeconds") != 14*24*3600 {
				t.Errorf("job queue: want SSE, 20 s long polling, visibility = jobTimeoutSeconds (60) + 30 s, maxReceiveCount 5 into a DLQ kept 14 days; got %v (%v)", jobs.Inputs, err)
			}
			hook := r.one(t, "aws:autoscaling/lifecycleHook:LifecycleHook", "worker-drain")
			if hook.num("heartbeatTimeout") < jobs.num("visibilityTimeoutSeconds") || hook.str("defaultResult") != "CONTINUE" {
				t.Errorf("drain hook: heartbeat %v must cover the visibility timeout %v", hook.num("heartbeatTimeout"), jobs.num("visibilityTimeoutSeconds"))
			}
			worker := r.one(t, "aws:autoscaling/group:Group", "worker-asg")
			if worker.num("minSize") != tt.wantWorkerMin || worker.get("targetGroupArns") != nil {
				t.Errorf("worker group: want min %v and no target group, got %v", tt.wantWorkerMin, worker.Inputs)
			}
			if n := len(r.one(t, "aws:ec2/securityGroup:SecurityGroup", "worker-sg").list("ingress")); n != 0 {
				t.Errorf("worker instances must admit nothing, got %d rules", n)
			}
			if r.one(t, "aws:autoscaling/policy:Policy", "worker-backlog").num("targetTrackingConfiguration.targetValue") <= 0 {
				t.Errorf("worker: want backlog-per-instance tracking")
			}

			// CDN.
			dist := r.one(t, "aws:cloudfront/distribution:Distribution", "cdn-distribution")
			if dist.str("priceClass") != tt.wantPriceClass || (dist.get("loggingConfig") != nil) != tt.wantProd {
				t.Errorf("CDN: want %s and logging %v, got %v / %v", tt.wantPriceClass, tt.wantProd, dist.get("priceClass"), dist.get("loggingConfig"))
			}
			if tt.wantProd {
				if dist.str("viewerCertificate.minimumProtocolVersion") != "TLSv1.2_2021" || dist.str("aliases.0") != "app.example.com" ||
					dist.str("origins.0.domainName") != "origin.app.example.com" || dist.str("origins.0.customOriginConfig.originProtocolPolicy") != "https-only" {
					t.Errorf("prod CDN: want the domain with TLSv1.2_2021 and HTTPS to origin.app.example.com, got %v", dist.Inputs)
				}
			}

			checkPrivateSubnets(t, r, tt.wantAZs)
			checkDataAccess(t, r)
			checkEnvContract(t, r, shardNames, tt.wantReplicas)
			checkNoSecretLeaks(t, r, outputs)
			for _, key := range []string{"url", "cdnDomainName", "albDnsName", "databaseWriterEndpoint", "databaseReaderEndpoints", "redisEndpoint", "shardTables", "jobsQueueUrl", "deadLetterQueueUrl"} {
				if o, ok := outputs[key]; !ok || o.Value == nil || fmt.Sprint(o.Value) == "" {
					t.Errorf("output %s: missing or empty (%v)", key, o)
				}
			}
			if got, _ := outputs["databaseReaderEndpoints"].Value.([]string); len(got) != tt.wantReplicas {
				t.Errorf("output databaseReaderEndpoints: want %d endpoints, got %v", tt.wantReplicas, got)
			}
			if got, _ := outputs["shardTables"].Value.([]string); len(got) != tt.wantShards || !strings.HasPrefix(got[0], "shards-shard-0-") {
				t.Errorf("output shardTables: want %d tables in shard order, got %v", tt.wantShards, got)
			}
		})
	}
}

// checkPrivateSubnets: the database and the cache live in subnet groups of the private subnets, and both fleets
// spread over the private subnets, one per AZ.
func checkPrivateSubnets(t *testing.T, r *recorder, azs int) {
	t.Helper()
	for _, place := range []struct{ typ, name, path string }{
		{"aws:rds/subnetGroup:SubnetGroup", "db-subnets", "subnetIds"},
		{"aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets", "subnetIds"},
		{"aws:autoscaling/group:Group", "api-asg", "vpcZoneIdentifiers"},
		{"aws:autoscaling/group:Group", "worker-asg", "vpcZoneIdentifiers"},
	} {
		subnets := asStrings(r.one(t, place.typ, place.name).get(place.path))
		private := 0
		for _, s := range subnets {
			if strings.HasPrefix(s, "net-private-") {
				private++
			}
		}
		if len(subnets) != azs || private != azs {
			t.Errorf("%s: want the %d private subnets, got %v", place.name, azs, subnets)
		}
	}
}

// checkDataAccess: the ALB admits only CloudFront and requires the origin header; the database and the cache
// admit their port only from the API and worker groups; each role gets only its own queue and table actions.
func checkDataAccess(t *testing.T, r *recorder) {
	t.Helper()
	albIngress := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "web-sg").list("ingress")
	if len(albIngress) != 1 {
		t.Errorf("ALB: want one ingress rule, on the serving port, got %v", albIngress)
	}
	for _, rule := range albIngress {
		if !cmp.Equal(asStrings(get(rule, "prefixListIds")), []string{"pl-3b927c52"}) || get(rule, "cidrBlocks") != nil {
			t.Errorf("ALB: want ingress from CloudFront's origin-facing prefix list only, got %v", rule)
		}
	}
	if r.one(t, "aws:lb/listenerRule:ListenerRule", "web-from-origin").str("conditions.0.httpHeader.httpHeaderName") != stacks.OriginHeader {
		t.Errorf("ALB: want a listener rule requiring the origin header")
	}
	admitted := map[string][]string{}
	for _, rule := range r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		key := fmt.Sprintf("%s:%v", rule.str("securityGroupId"), rule.num("fromPort"))
		admitted[key] = append(admitted[key], rule.str("referencedSecurityGroupId"))
	}
	want := map[string][]string{"db-sg-id:5432": {"api-sg-id", "worker-sg-id"}, "cache-sg-id:6379": {"api-sg-id", "worker-sg-id"}}
	if diff := cmp.Diff(want, admitted); diff != "" {
		t.Errorf("data-store ingress (-want +got):\n%s", diff)
	}
	for _, sg := range []string{"db-sg", "cache-sg"} {
		if n := len(r.one(t, "aws:ec2/securityGroup:SecurityGroup", sg).list("ingress")); n != 0 {
			t.Errorf("%s: want no inline ingress, got %d", sg, n)
		}
	}

	queueARN := "arn:aws:mock:us-east-1:123456789012:aws:sqs/queue:Queue/jobs-jobs"
	grants := func(role string) map[string][]string {
		out := map[string][]string{}
		for _, s := range policyStatements(t, r.one(t, "aws:iam/rolePolicy:RolePolicy", role+"-policy").str("policy")) {
			for _, a := range asStrings(s["Action"]) {
				out[a] = append(out[a], asStrings(s["Resource"])...)
			}
		}
		return out
	}
	api, worker := grants("api"), grants("worker")
	if !cmp.Equal(api["sqs:SendMessage"], []string{queueARN}) {
		t.Errorf("API: want sqs:SendMessage on the job queue only, got %v", api["sqs:SendMessage"])
	}
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"} {
		if !cmp.Equal(worker[a], []string{queueARN}) {
			t.Errorf("worker: want %s on the job queue only, got %v", a, worker[a])
		}
		if _, ok := api[a]; ok {
			t.Errorf("API must not consume jobs (%s)", a)
		}
	}
	if _, ok := worker["sqs:SendMessage"]; ok {
		t.Errorf("worker must not enqueue jobs")
	}
	for role, g := range map[string]map[string][]string{"api": api, "worker": worker} {
		for action, resources := range g {
			if !strings.HasPrefix(action, "dynamodb:") {
				continue
			}
			for _, res := range resources {
				if !strings.HasPrefix(res, "arn:aws:mock:us-east-1:123456789012:aws:dynamodb/table:Table/shards-shard-") {
					t.Errorf("%s: %s on %q, want the shard tables only", role, action, res)
				}
			}
			if role == "worker" && !strings.HasPrefix(action, "dynamodb:Get") && !strings.HasPrefix(action, "dynamodb:BatchGet") && action != "dynamodb:Query" {
				t.Errorf("worker: want DynamoDB reads only, got %s", action)
			}
		}
	}
	if _, ok := api["dynamodb:PutItem"]; !ok {
		t.Errorf("API: want DynamoDB item writes on the shard tables")
	}
	// Each role reads its own secrets only: the worker never the JWT signing keys.
	secretARN := func(name string) string {
		return "arn:aws:mock:us-east-1:123456789012:aws:secretsmanager/secret:Secret/" + name + "-secret"
	}
	db, redis, jwt := secretARN("db-password"), secretARN("cache-auth-token"), secretARN("jwt-keys")
	for role, want := range map[string][]string{"api": {db, redis, jwt}, "worker": {db, redis}} {
		got := map[string]map[string][]string{"api": api, "worker": worker}[role]["secretsmanager:GetSecretValue"]
		sort.Strings(got)
		sort.Strings(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: secretsmanager:GetSecretValue (-want +got):\n%s", role, diff)
		}
	}
	checkRolePolicies(t, r)
}

// checkEnvContract: both launch templates pass the env contract in the formats the app parses, and read the
// secrets by ARN at boot.
func checkEnvContract(t *testing.T, r *recorder, shardNames []string, replicas int) {
	t.Helper()
	for _, lt := range []string{"api-lt", "worker-lt"} {
		ud := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", lt).userData(t)
		checks := map[string]*regexp.Regexp{
			"DATABASE_WRITER_URL":  regexp.MustCompile(`^postgres://scalestack@db-primary\.abc\.us-east-1\.rds\.amazonaws\.com:5432/scalestack\?sslmode=require$`),
			"DATABASE_READER_URLS": regexp.MustCompile(fmt.Sprintf(`^postgres://scalestack@db-replica-1\.[^,]+(,postgres://scalestack@db-replica-\d\.[^,]+){%d}$`, replicas-1)),
			"REDIS_URL":            regexp.MustCompile(`^rediss://master\.cache-redis\.abc\.use1\.cache\.amazonaws\.com:6379$`),
			"JOBS_QUEUE_URL":       regexp.MustCompile(`^https://sqs\.us-east-1\.amazonaws\.com/123456789012/jobs-jobs$`),
			"AWS_REGION":           regexp.MustCompile(`^us-east-1$`),
		}
		for name, want := range checks {
			if v, ok := envLine(ud, name); !ok || !want.MatchString(v) {
				t.Errorf("%s: %s = %q, want %s", lt, name, v, want)
			}
		}
		// The shard list: the tables' names in shard order.
		v, _ := envLine(ud, "DYNAMODB_SHARD_TABLES")
		tables := strings.Split(v, ",")
		if len(tables) != len(shardNames) {
			t.Fatalf("%s: DYNAMODB_SHARD_TABLES = %q, want %d tables", lt, v, len(shardNames))
		}
		for i, tb := range tables {
			if !strings.HasPrefix(tb, fmt.Sprintf("shards-shard-%d-", i)) {
				t.Errorf("%s: shard %d is %q, want the table shards-shard-%d", lt, i, tb, i)
			}
		}
		secrets := []string{"DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"}
		if lt == "api-lt" {
			secrets = append(secrets, "JWT_SIGNING_KEYS")
		} else if strings.Contains(ud, "JWT_SIGNING_KEYS") {
			t.Errorf("worker: must not read the JWT signing keys")
		}
		env, err := bootEnv(t, ud, false)
		if err != nil {
			t.Fatalf("%s: env script failed: %v", lt, err)
		}
		for _, s := range secrets {
			if !strings.HasPrefix(env[s], "secret-of:arn:") {
				t.Errorf("%s: want %s read from Secrets Manager by ARN at boot, got %q", lt, s, env[s])
			}
		}
	}
	// Each fleet runs its own command of the app image.
	for lt, want := range map[string]string{"api-lt": "'/app/api'", "worker-lt": "'/app/worker'"} {
		start := regexp.MustCompile(`(?m)^ExecStart=/usr/bin/docker run .*$`).FindString(r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", lt).userData(t))
		if !strings.HasSuffix(start, "'"+stacks.DefaultImage+"' "+want) {
			t.Errorf("%s: want the container to run %s, got %q", lt, want, start)
		}
	}
	if v, _ := envLine(r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", "worker-lt").userData(t), "LIFECYCLE_HOOK_NAME"); v != "worker-drain" {
		t.Errorf("worker: LIFECYCLE_HOOK_NAME = %q, want worker-drain", v)
	}
}

// checkNoSecretLeaks: every generated secret (database password, Redis token, JWT key, origin header) is absent
// from every launch template's user data and from every output.
func checkNoSecretLeaks(t *testing.T, r *recorder, outputs map[string]exported) {
	t.Helper()
	if len(r.secrets) < 5 {
		t.Fatalf("want at least 5 generated secret values (password, token, JWT key in two encodings, origin header), got %d", len(r.secrets))
	}
	for _, lt := range r.ofType("aws:ec2/launchTemplate:LaunchTemplate") {
		ud := lt.userData(t)
		raw := fmt.Sprint(lt.Inputs)
		for _, s := range r.secrets {
			if strings.Contains(ud, s) || strings.Contains(raw, s) {
				t.Errorf("%s: a generated secret appears in the launch template", lt.Name)
			}
		}
	}
	for k, o := range outputs {
		for _, s := range r.secrets {
			if strings.Contains(fmt.Sprint(o.Value), s) && !o.Secret {
				t.Errorf("output %s holds a generated secret in plain text", k)
			}
		}
	}
}

// TestDataTierConfigRejects: each data-tier key with a bad value fails before anything is registered and names
// the key, what is allowed and the value given.
func TestDataTierConfigRejects(t *testing.T) {
	tests := []struct {
		stack, key, give string
		want             string
	}{
		{"prod", "dbReplicas", "0", `scalestack:dbReplicas: must be at least 1 in prod (reads go to replicas), but 0 was given`},
		{"dev", "dbReplicas", "6", `scalestack:dbReplicas: must be between 0 and 5, but 6 was given`},
		{"dev", "shardCount", "0", `scalestack:shardCount: must be between 2 and 64, but 0 was given`},
		{"prod", "shardCount", "3", `scalestack:shardCount: must be at least 4 in prod (room to spread hot keys), but 3 was given`},
		{"dev", "jobMaxReceiveCount", "0", `scalestack:jobMaxReceiveCount: must be between 1 and 1000, but 0 was given`},
		{"dev", "jobTimeoutSeconds", "900", `scalestack:jobTimeoutSeconds: must be between 1 and 840, but 900 was given`},
		{"prod", "cacheNodes", "1", `scalestack:cacheNodes: must be at least 2 in prod (a replica takes over when the primary fails), but 1 was given`},
		{"dev", "cacheNodeType", "t4g.micro", `scalestack:cacheNodeType: must be an ElastiCache node type such as cache.t4g.micro, but "t4g.micro" was given`},
		{"prod", "dbBackupRetentionDays", "3", `scalestack:dbBackupRetentionDays: must be at least 7 in prod (a week of point-in-time recovery), but 3 was given`},
		{"prod", "dbMultiAz", "false", `scalestack:dbMultiAz: must be true in prod`},
		{"dev", "dbMultiAz", "maybe", `scalestack:dbMultiAz: must be true or false, but "maybe" was given`},
		{"dev", "dbMonitoringIntervalSeconds", "7", `scalestack:dbMonitoringIntervalSeconds: must be one of [0 1 5 10 15 30 60] (0: off), but 7 was given`},
		{"dev", "cdnPriceClass", "PriceClass_1", `scalestack:cdnPriceClass: must be one of ["PriceClass_100" "PriceClass_200" "PriceClass_All"], but "PriceClass_1" was given`},
		{"prod", "workerMinSize", "0", `scalestack:workerMinSize: must be at least 1 in prod`},
		{"dev", "workerInstanceType", "t3.small", `scalestack:workerInstanceType: must be an arm64 (Graviton) EC2 instance type`},
		{"dev", "workerAcceptableLatencySeconds", "1", `scalestack:workerAcceptableLatencySeconds: must be between 2 and 86400, but 1 was given`},
		{"dev", "shardDeletionProtection", "yes please", `scalestack:shardDeletionProtection: must be true or false, but "yes please" was given`},
	}
	for _, tt := range tests {
		t.Run(tt.stack+"/"+tt.key, func(t *testing.T) {
			config := stackConfig(t, tt.stack)
			config[tt.key] = tt.give
			r, err := run(t, tt.stack, config, stacks.Program)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error containing %q, got %v", tt.want, err)
			}
			if len(r.resources) != 0 {
				t.Errorf("registered %d resources before failing", len(r.resources))
			}
		})
	}
}

// TestCDNCertificateOutsideUSEast1: CloudFront takes certificates from us-east-1 only, so a stack elsewhere
// requests the CDN's certificate through a us-east-1 provider and the load balancer's through its own region.
func TestCDNCertificateOutsideUSEast1(t *testing.T) {
	config := stackConfig(t, "prod")
	config["aws:region"] = "eu-west-1"
	r := mustRun(t, "prod", config, stacks.Program)
	provider := r.one(t, "pulumi:providers:aws", "us-east-1")
	if provider.str("region") != "us-east-1" {
		t.Fatalf("want a us-east-1 provider, got %v", provider.Inputs)
	}
	for _, name := range []string{"cdn-cert", "cdn-cert-validated"} {
		typ := "aws:acm/certificate:Certificate"
		if strings.HasSuffix(name, "validated") {
			typ = "aws:acm/certificateValidation:CertificateValidation"
		}
		if got := r.one(t, typ, name).Provider; !strings.Contains(got, "pulumi:providers:aws::us-east-1::") {
			t.Errorf("%s: want the us-east-1 provider, got %q", name, got)
		}
	}
	if got := r.one(t, "aws:acm/certificate:Certificate", "web-cert").Provider; got != "" {
		t.Errorf("web-cert: want the stack's own provider, got %q", got)
	}

	r = mustRun(t, "prod", stackConfig(t, "prod"), stacks.Program)
	if n := len(r.ofType("pulumi:providers:aws")); n != 0 {
		t.Errorf("in us-east-1: want no extra provider, got %d", n)
	}
}

// TestStackShardsGrowByAppending: raising shardCount from 4 to 5 on the prod stack adds shards-shard-4 and
// leaves the first four tables' logical names and inputs untouched.
func TestStackShardsGrowByAppending(t *testing.T) {
	config := stackConfig(t, "prod")
	before := mustRun(t, "prod", config, stacks.Program).ofType("aws:dynamodb/table:Table")
	config["shardCount"] = "5"
	after := mustRun(t, "prod", config, stacks.Program).ofType("aws:dynamodb/table:Table")
	if len(before) != 4 || len(after) != 5 || after[4].Name != "shards-shard-4" {
		t.Fatalf("want 4 then 5 tables, the new one shards-shard-4; got %v then %v", len(before), len(after))
	}
	for i := range before {
		if before[i].Name != after[i].Name {
			t.Errorf("shard %d renamed from %s to %s", i, before[i].Name, after[i].Name)
		}
		if diff := cmp.Diff(before[i].Inputs, after[i].Inputs); diff != "" {
			t.Errorf("shard %d inputs changed (-before +after):\n%s", i, diff)
		}
	}
}
