package stacks

import (
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// fleets are the two instance groups: the API behind the load balancer and the queue workers behind nothing.
type fleets struct {
	api, worker *components.Fleet
}

// dataPorts are what both fleets reach inside the VPC: PostgreSQL and Redis.
var dataPorts = []int{components.PostgresPort, components.RedisPort}

// DynamoDB actions of the API (items only, no table management) and the read-only ones of the worker.
var (
	apiItemActions = []string{
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
		"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
	}
	workerItemActions  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	workerQueueActions = []string{
		"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
	}
)

// newFleets starts both fleets with the env contract (plain values in user data, secrets by ARN) and their own
// roles, and admits them, and only them, to the database and the cache.
func newFleets(ctx *pulumi.Context, cfg Config, region string, network *components.Network, web *components.LoadBalancer,
	data *dataTier, tags map[string]string) (*fleets, error) {
	env := func(extra map[string]pulumi.StringInput) map[string]pulumi.StringInput {
		m := map[string]pulumi.StringInput{
			"AWS_REGION":            pulumi.String(region),
			"DATABASE_WRITER_URL":   data.db.WriterURL,
			"DATABASE_READER_URLS":  joined(data.db.ReaderURLs),
			"REDIS_URL":             data.cache.URL,
			"DYNAMODB_SHARD_TABLES": joined(data.shards.TableNames),
			"JOBS_QUEUE_URL":        data.queue.URL,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	dataSecrets := map[string]pulumi.StringInput{
		"DATABASE_PASSWORD": data.db.PasswordSecretARN,
		"REDIS_AUTH_TOKEN":  data.cache.AuthTokenSecretARN,
	}
	apiSecrets := map[string]pulumi.StringInput{"JWT_SIGNING_KEYS": data.jwt.ARN}
	for k, v := range dataSecrets {
		apiSecrets[k] = v
	}

	api, err := components.NewFleet(ctx, "api", &components.FleetArgs{
		VPCID:          network.VPCID,
		VPCCIDR:        network.CIDR,
		SubnetIDs:      network.PrivateSubnetIDs,
		Image:          cfg.AppImage,
		Command:        []string{"/app/api"},
		MigrateCommand: []string{"/app/api", "migrate"},
		LoadBalancer: &components.FleetLoadBalancing{
			SecurityGroupID:       web.SecurityGroupID,
			TargetGroupARN:        web.TargetGroupARN,
			LoadBalancerARNSuffix: web.ARNSuffix,
			TargetGroupARNSuffix:  web.TargetGroupARNSuffix,
			AppPort:               AppPort,
			RequestsPerTarget:     cfg.RequestsPerTarget,
		},
		InstanceType:     cfg.InstanceType,
		MinSize:          cfg.APIMinSize,
		MaxSize:          cfg.APIMaxSize,
		DesiredCapacity:  cfg.APIDesiredCapacity,
		HealthCheckGrace: time.Duration(cfg.HealthCheckGraceSeconds) * time.Second,
		CPUTargetPercent: cfg.CPUTargetPercent,
		Env: env(map[string]pulumi.StringInput{
			"HTTP_ADDR":    pulumi.Sprintf(":%d", AppPort),
			"ADMIN_EMAILS": pulumi.String(strings.Join(cfg.AdminEmails, ",")),
		}),
		SecretEnv: apiSecrets,
		PolicyStatements: []components.PolicyStatement{
			{Sid: "ShardItems", Actions: apiItemActions, Resources: data.shards.TableARNs},
			{Sid: "EnqueueJobs", Actions: []string{"sqs:SendMessage"}, Resources: pulumi.StringArray{data.queue.ARN}},
		},
		EgressPortsInVPC: dataPorts,
		Tags:             tags,
	})
	if err != nil {
		return nil, err
	}

	// A worker gets the job timeout plus 15 s to finish its jobs after SIGTERM; the drain hook holds the
	// instance for the visibility timeout plus a minute, longer than any job it may still hold.
	jobTimeout := time.Duration(cfg.JobTimeoutSeconds) * time.Second
	worker, err := components.NewFleet(ctx, "worker", &components.FleetArgs{
		VPCID:        network.VPCID,
		VPCCIDR:      network.CIDR,
		SubnetIDs:    network.PrivateSubnetIDs,
		Image:        cfg.AppImage,
		Command:      []string{"/app/worker"},
		InstanceType: cfg.WorkerInstanceType,
		MinSize:      cfg.WorkerMinSize,
		MaxSize:      cfg.WorkerMaxSize,
		StopTimeout:  jobTimeout + 15*time.Second,
		Backlog: &components.FleetBacklogScaling{
			QueueName:           data.queue.Name,
			MessagesPerInstance: cfg.BacklogPerWorker(),
		},
		DrainHook: &components.FleetDrainHook{Heartbeat: data.queue.VisibilityTimeout + time.Minute},
		Env:       env(nil),
		SecretEnv: dataSecrets,
		PolicyStatements: []components.PolicyStatement{
			{Sid: "ConsumeJobs", Actions: workerQueueActions, Resources: pulumi.StringArray{data.queue.ARN}},
			{Sid: "ReadShards", Actions: workerItemActions, Resources: data.shards.TableARNs},
		},
		EgressPortsInVPC: dataPorts,
		Tags:             tags,
	})
	if err != nil {
		return nil, err
	}

	for _, f := range []struct {
		client string
		fleet  *components.Fleet
	}{{"api", api}, {"worker", worker}} {
		if err := data.db.AdmitFrom(ctx, f.client, f.fleet.SecurityGroupID); err != nil {
			return nil, err
		}
		if err := data.cache.AdmitFrom(ctx, f.client, f.fleet.SecurityGroupID); err != nil {
			return nil, err
		}
	}
	return &fleets{api: api, worker: worker}, nil
}
