package tests

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func newQueue(args *components.QueueArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := components.NewQueue(ctx, "jobs", args)
		return err
	}
}

func TestQueueByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newQueue(nil))
	jobs := r.one(t, "aws:sqs/queue:Queue", "jobs-jobs")
	dlq := r.one(t, "aws:sqs/queue:Queue", "jobs-dlq")
	for path, want := range map[string]any{
		"visibilityTimeoutSeconds": float64(90), // job timeout 60 s + 30 s
		"receiveWaitTimeSeconds":   float64(20),
		"sqsManagedSseEnabled":     true,
		"messageRetentionSeconds":  float64(4 * 24 * 3600),
	} {
		if diff := cmp.Diff(want, jobs.get(path)); diff != "" {
			t.Errorf("job queue %s (-want +got):\n%s", path, diff)
		}
	}
	if dlq.num("messageRetentionSeconds") != 14*24*3600 || dlq.get("sqsManagedSseEnabled") != true {
		t.Errorf("DLQ: want 14 days' retention and SSE, got %v", dlq.Inputs)
	}
	if dlq.num("messageRetentionSeconds") <= jobs.num("messageRetentionSeconds") {
		t.Errorf("the DLQ must keep messages longer than the job queue")
	}
	var redrive struct {
		DeadLetterTargetArn string
		MaxReceiveCount     int
	}
	if err := json.Unmarshal([]byte(jobs.str("redrivePolicy")), &redrive); err != nil {
		t.Fatalf("redrive policy: %v", err)
	}
	if redrive.MaxReceiveCount != 5 || redrive.DeadLetterTargetArn != "arn:aws:mock:us-east-1:123456789012:aws:sqs/queue:Queue/jobs-dlq" {
		t.Errorf("redrive policy: got %+v", redrive)
	}
	allow := r.one(t, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "jobs-dlq-allow").str("redriveAllowPolicy")
	if want := `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:mock:us-east-1:123456789012:aws:sqs/queue:Queue/jobs-jobs"]}`; allow != want {
		t.Errorf("redrive allow policy: want %s, got %s", want, allow)
	}

	dead := r.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "jobs-dead-letters")
	if dead.str("metricName") != "ApproximateNumberOfMessagesVisible" || !strings.HasPrefix(dead.str("dimensions.QueueName"), "jobs-dlq-") ||
		dead.num("threshold") != 0 || dead.str("comparisonOperator") != "GreaterThanThreshold" {
		t.Errorf("DLQ depth alarm: got %v", dead.Inputs)
	}
	oldest := r.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "jobs-oldest-job")
	if oldest.str("metricName") != "ApproximateAgeOfOldestMessage" || oldest.num("threshold") != 600 || !strings.HasPrefix(oldest.str("dimensions.QueueName"), "jobs-jobs-") {
		t.Errorf("oldest message alarm: got %v", oldest.Inputs)
	}
	for _, p := range r.ofType("aws:sqs/queuePolicy:QueuePolicy") {
		st := policyStatements(t, p.str("policy"))
		if len(st) != 1 || st[0]["Effect"] != "Deny" || get(st[0], "Condition.Bool.aws:SecureTransport") != "false" {
			t.Errorf("%s: want a TLS-only deny, got %v", p.Name, st)
		}
	}
	if n := len(r.ofType("aws:sqs/queuePolicy:QueuePolicy")); n != 2 {
		t.Errorf("want a TLS-only policy on both queues, got %d", n)
	}
}

func TestQueueDerivesVisibilityFromJobTimeout(t *testing.T) {
	r := mustRun(t, "dev", nil, newQueue(&components.QueueArgs{JobTimeout: 5 * time.Minute, MaxReceiveCount: 3}))
	if got := r.one(t, "aws:sqs/queue:Queue", "jobs-jobs").num("visibilityTimeoutSeconds"); got != 330 {
		t.Errorf("visibility timeout: want 330 s (5 min + 30 s), got %v", got)
	}
}

func TestQueueRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.QueueArgs
		want []string
	}{
		{"negative max receive count", components.QueueArgs{MaxReceiveCount: -1}, []string{"MaxReceiveCount: must be between 1 and 1000, but -1 was given"}},
		{"too many receives", components.QueueArgs{MaxReceiveCount: 1001}, []string{"MaxReceiveCount: must be between 1 and 1000, but 1001 was given"}},
		{"visibility shorter than job", components.QueueArgs{JobTimeout: 2 * time.Minute, VisibilityTimeout: time.Minute},
			[]string{"VisibilityTimeout: must be at least JobTimeout (2m0s)", "but 1m0s was given"}},
		{"retention as long as the DLQ's", components.QueueArgs{MessageRetention: 14 * 24 * time.Hour}, []string{"MessageRetention: must be whole seconds from 1m0s to 312h0m0s, but 336h0m0s was given"}},
		{"fractional job timeout", components.QueueArgs{JobTimeout: 1500 * time.Millisecond}, []string{"JobTimeout: must be whole seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newQueue(&tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
