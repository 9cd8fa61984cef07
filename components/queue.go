package components

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Queue limits from SQS.
const (
	maxVisibilityTimeout = 12 * time.Hour
	dlqRetention         = 14 * 24 * time.Hour // the longest SQS keeps a message
	longPollWait         = 20 * time.Second    // the longest receive wait SQS allows
)

// QueueArgs configures a Queue.
type QueueArgs struct {
	// JobTimeout is the longest a worker may spend on one job, whole seconds from 1s to 11h. Default: 60s.
	JobTimeout time.Duration
	// VisibilityTimeout is how long a received message stays hidden from other workers; at least JobTimeout and
	// at most 12h. Default: JobTimeout plus 30s, so a worker that finishes at the deadline can still delete it.
	VisibilityTimeout time.Duration
	// MaxReceiveCount is how many times a message is received before it moves to the dead-letter queue, 1 to
	// 1000. Default: 5.
	MaxReceiveCount int
	// MessageRetention is how long the job queue keeps a message, 1m to 13 days (the dead-letter queue keeps
	// them 14 days, longer, so a message that moves there is never older than it may be). Default: 4 days.
	MessageRetention time.Duration
	// OldestMessageAlarm is the age of the oldest waiting job that raises the backlog alarm, 1m to 12h.
	// Default: 10m.
	OldestMessageAlarm time.Duration
	// AlarmActions are notified (for example SNS topic ARNs) when an alarm fires. Default: none.
	AlarmActions pulumi.StringArray
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// Queue is an SQS job queue with server-side encryption and long polling, a dead-letter queue, and alarms on
// dead letters and on the age of the oldest waiting job.
type Queue struct {
	pulumi.ResourceState

	// URL, ARN and Name identify the job queue.
	URL  pulumi.StringOutput
	ARN  pulumi.StringOutput
	Name pulumi.StringOutput
	// DeadLetterURL, DeadLetterARN and DeadLetterName identify the dead-letter queue.
	DeadLetterURL  pulumi.StringOutput
	DeadLetterARN  pulumi.StringOutput
	DeadLetterName pulumi.StringOutput
	// JobTimeout and VisibilityTimeout are the resolved settings; workers and their drain hook size themselves
	// from them.
	JobTimeout, VisibilityTimeout time.Duration
}

func (a QueueArgs) withDefaults() QueueArgs {
	if a.JobTimeout == 0 {
		a.JobTimeout = 60 * time.Second
	}
	if a.VisibilityTimeout == 0 {
		a.VisibilityTimeout = a.JobTimeout + 30*time.Second
	}
	if a.MaxReceiveCount == 0 {
		a.MaxReceiveCount = 5
	}
	if a.MessageRetention == 0 {
		a.MessageRetention = 4 * 24 * time.Hour
	}
	if a.OldestMessageAlarm == 0 {
		a.OldestMessageAlarm = 10 * time.Minute
	}
	return a
}

func (a QueueArgs) validate(name string) error {
	p := newProblems("Queue", name)
	p.durationRange("JobTimeout", a.JobTimeout, time.Second, 11*time.Hour)
	p.durationRange("VisibilityTimeout", a.VisibilityTimeout, time.Second, maxVisibilityTimeout)
	if a.VisibilityTimeout < a.JobTimeout {
		p.addf("VisibilityTimeout", "must be at least JobTimeout (%s), or a job still running reappears for another worker, but %s was given",
			a.JobTimeout, a.VisibilityTimeout)
	}
	p.intRange("MaxReceiveCount", a.MaxReceiveCount, 1, 1000)
	p.durationRange("MessageRetention", a.MessageRetention, time.Minute, dlqRetention-24*time.Hour)
	p.durationRange("OldestMessageAlarm", a.OldestMessageAlarm, time.Minute, 12*time.Hour)
	return p.err()
}

// NewQueue registers a Queue.
func NewQueue(ctx *pulumi.Context, name string, args *QueueArgs, opts ...pulumi.ResourceOption) (*Queue, error) {
	var a QueueArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	q := &Queue{JobTimeout: a.JobTimeout, VisibilityTimeout: a.VisibilityTimeout}
	if err := ctx.RegisterComponentResource(queueType, name, q, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(q)
	tags := tagger(name, a.Tags)

	dlq, err := sqs.NewQueue(ctx, name+"-dlq", &sqs.QueueArgs{
		MessageRetentionSeconds: pulumi.Int(int(dlqRetention / time.Second)),
		ReceiveWaitTimeSeconds:  pulumi.Int(int(longPollWait / time.Second)),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		Tags:                    tags("dlq"),
	}, parent)
	if err != nil {
		return nil, err
	}
	redrive := dlq.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": a.MaxReceiveCount})
		return string(b), err
	}).(pulumi.StringOutput)
	jobs, err := sqs.NewQueue(ctx, name+"-jobs", &sqs.QueueArgs{
		VisibilityTimeoutSeconds: pulumi.Int(int(a.VisibilityTimeout / time.Second)),
		MessageRetentionSeconds:  pulumi.Int(int(a.MessageRetention / time.Second)),
		ReceiveWaitTimeSeconds:   pulumi.Int(int(longPollWait / time.Second)),
		SqsManagedSseEnabled:     pulumi.Bool(true),
		RedrivePolicy:            redrive,
		Tags:                     tags("jobs"),
	}, parent)
	if err != nil {
		return nil, err
	}
	q.URL, q.ARN, q.Name = jobs.Url, jobs.Arn, jobs.Name
	q.DeadLetterURL, q.DeadLetterARN, q.DeadLetterName = dlq.Url, dlq.Arn, dlq.Name

	// Only the job queue may move messages into the dead-letter queue.
	if _, err := sqs.NewRedriveAllowPolicy(ctx, name+"-dlq-allow", &sqs.RedriveAllowPolicyArgs{
		QueueUrl: dlq.Url,
		RedriveAllowPolicy: jobs.Arn.ApplyT(func(arn string) (string, error) {
			b, err := json.Marshal(map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []string{arn}})
			return string(b), err
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, err
	}
	for _, qu := range []struct {
		role  string
		queue *sqs.Queue
	}{{"jobs", jobs}, {"dlq", dlq}} {
		if _, err := sqs.NewQueuePolicy(ctx, name+"-"+qu.role+"-tls", &sqs.QueuePolicyArgs{
			QueueUrl: qu.queue.Url,
			Policy:   denyInsecureTransport(qu.queue.Arn),
		}, parent); err != nil {
			return nil, err
		}
	}

	actions := pulumi.Array{}
	for _, arn := range a.AlarmActions {
		actions = append(actions, arn)
	}
	alarms := []struct {
		role, description, metric string
		queue                     pulumi.StringOutput
		periods                   int
		threshold                 float64
	}{
		{"dead-letters", fmt.Sprintf("Jobs failed %d times and are in the dead-letter queue: inspect them, fix the cause, redrive.", a.MaxReceiveCount),
			"ApproximateNumberOfMessagesVisible", dlq.Name, 1, 0},
		{"oldest-job", fmt.Sprintf("The oldest waiting job is older than %s: the workers are not keeping up.", a.OldestMessageAlarm),
			"ApproximateAgeOfOldestMessage", jobs.Name, 3, a.OldestMessageAlarm.Seconds()},
	}
	for _, al := range alarms {
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.role, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String("AWS/SQS"),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         pulumi.StringMap{"QueueName": al.queue},
			Statistic:          pulumi.String("Maximum"),
			Period:             pulumi.Int(60),
			EvaluationPeriods:  pulumi.Int(al.periods),
			Threshold:          pulumi.Float64(al.threshold),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               tags(al.role),
		}, parent); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(q, pulumi.Map{
		"url":           q.URL,
		"deadLetterUrl": q.DeadLetterURL,
	}); err != nil {
		return nil, err
	}
	return q, nil
}

// denyInsecureTransport is a resource policy that refuses every request to the resource made without TLS.
func denyInsecureTransport(arn pulumi.StringOutput) pulumi.StringOutput {
	return arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"Version":   "2012-10-17",
			"Statement": []map[string]any{tlsOnlyStatement("sqs:*", arn)},
		})
		return string(b), err
	}).(pulumi.StringOutput)
}
