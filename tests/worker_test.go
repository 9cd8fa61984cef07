package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// newWorker runs a queue-worker fleet: no load balancer, backlog scaling and a drain hook.
func newWorker(args components.FleetArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		args.VPCID = pulumi.String("vpc-1")
		args.VPCCIDR = "10.0.0.0/16"
		args.SubnetIDs = pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b")}
		args.Image = "ghcr.io/scalestack/scalestack:1.0.0"
		args.Command = []string{"/app/worker"}
		_, err := components.NewFleet(ctx, "worker", &args)
		return err
	}
}

func workerArgs(minSize int) components.FleetArgs {
	return components.FleetArgs{
		MinSize: minSize, MaxSize: 4, StopTimeout: 90 * time.Second,
		Backlog:   &components.FleetBacklogScaling{QueueName: pulumi.String("jobs-queue"), MessagesPerInstance: 30},
		DrainHook: &components.FleetDrainHook{Heartbeat: 3 * time.Minute},
	}
}

func TestWorkerFleetScalesOnBacklog(t *testing.T) {
	r := mustRun(t, "dev", nil, newWorker(workerArgs(0)))
	if n := len(r.one(t, "aws:ec2/securityGroup:SecurityGroup", "worker-sg").list("ingress")); n != 0 {
		t.Errorf("worker instances must admit nothing, got %d ingress rules", n)
	}
	asg := r.one(t, "aws:autoscaling/group:Group", "worker-asg")
	if asg.num("minSize") != 0 || asg.str("healthCheckType") != "EC2" || asg.get("targetGroupArns") != nil {
		t.Errorf("worker group: want min 0, EC2 health checks, no target group; got %v", asg.Inputs)
	}
	policies := map[string]recorded{}
	for _, p := range r.ofType("aws:autoscaling/policy:Policy") {
		policies[p.Name] = p
	}
	if _, cpu := policies["worker-cpu"]; cpu || len(policies) != 2 {
		t.Errorf("want the backlog and wake policies instead of CPU tracking, got %v", r.names("aws:autoscaling/policy:Policy"))
	}
	backlog := policies["worker-backlog"]
	spec := "targetTrackingConfiguration.customizedMetricSpecification.metrics."
	if backlog.num("targetTrackingConfiguration.targetValue") != 30 || backlog.str(spec+"2.expression") != "visible / instances" ||
		backlog.get(spec+"2.returnData") != true ||
		backlog.str(spec+"0.metricStat.metric.metricName") != "ApproximateNumberOfMessagesVisible" ||
		backlog.str(spec+"0.metricStat.metric.dimensions.0.value") != "jobs-queue" ||
		backlog.str(spec+"1.metricStat.metric.metricName") != "GroupInServiceInstances" {
		t.Errorf("backlog policy: want visible messages / in-service instances tracking 30, got %v", backlog.Inputs)
	}
	wake := policies["worker-wake"]
	if wake.str("adjustmentType") != "ExactCapacity" || wake.num("stepAdjustments.0.scalingAdjustment") != 1 {
		t.Errorf("wake policy: want exactly one instance, got %v", wake.Inputs)
	}
	alarm := r.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "worker-wake")
	if alarm.str("metricQueries.2.expression") != "IF(instances < 1, visible, 0)" || len(alarm.list("alarmActions")) != 1 {
		t.Errorf("wake alarm: got %v", alarm.Inputs)
	}

	// No scale-to-zero, no wake policy.
	r = mustRun(t, "prod", nil, newWorker(workerArgs(1)))
	if got := r.names("aws:autoscaling/policy:Policy"); !cmp.Equal(got, []string{"worker-backlog"}) {
		t.Errorf("min 1: want only the backlog policy, got %v", got)
	}
}

func TestWorkerFleetDrainHook(t *testing.T) {
	r := mustRun(t, "dev", nil, newWorker(workerArgs(0)))
	hook := r.one(t, "aws:autoscaling/lifecycleHook:LifecycleHook", "worker-drain")
	for path, want := range map[string]any{
		"name": "worker-drain", "lifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
		"heartbeatTimeout": float64(180), "defaultResult": "CONTINUE",
	} {
		if diff := cmp.Diff(want, hook.get(path)); diff != "" {
			t.Errorf("hook %s (-want +got):\n%s", path, diff)
		}
	}
	if !strings.HasPrefix(hook.str("autoscalingGroupName"), "worker-asg-") {
		t.Errorf("hook: want it on the worker group, got %q", hook.str("autoscalingGroupName"))
	}
	// The instances may complete the hook on their own group only.
	st := policyStatements(t, r.one(t, "aws:iam/rolePolicy:RolePolicy", "worker-drain-policy").str("policy"))
	if len(st) != 2 || !cmp.Equal(asStrings(st[0]["Resource"]), []string{"arn:aws:mock:us-east-1:123456789012:aws:autoscaling/group:Group/worker-asg"}) ||
		!cmp.Equal(asStrings(st[0]["Action"]), []string{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"}) {
		t.Errorf("drain policy: want the lifecycle actions on the worker's own group only, got %v", st)
	}
	checkRolePolicies(t, r)

	ud := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", "worker-lt").userData(t)
	for _, want := range []string{
		"printf '%s=%s\\n' LIFECYCLE_HOOK_NAME 'worker-drain'",
		"autoscaling/target-lifecycle-state",
		"systemctl stop scalestack.service\nexec aws autoscaling complete-lifecycle-action --region 'us-east-1' --lifecycle-hook-name 'worker-drain'",
		"systemctl enable --now scalestack-drain.service",
		"ExecStop=/usr/bin/docker stop --time 90 scalestack",
		"'/app/worker'",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q:\n%s", want, ud)
		}
	}
	if strings.Contains(ud, " -p ") {
		t.Errorf("a worker publishes no port")
	}
}

func TestWorkerFleetRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.FleetArgs
		want []string
	}{
		{"heartbeat shorter than the stop timeout", components.FleetArgs{MaxSize: 2, StopTimeout: 2 * time.Minute, DrainHook: &components.FleetDrainHook{Heartbeat: time.Minute}},
			[]string{"DrainHook.Heartbeat: must be at least StopTimeout (2m0s)", "but 1m0s was given"}},
		{"heartbeat too long", components.FleetArgs{MaxSize: 2, DrainHook: &components.FleetDrainHook{Heartbeat: 3 * time.Hour}}, []string{"DrainHook.Heartbeat: must be whole seconds from 30s to 2h0m0s, but 3h0m0s was given"}},
		{"backlog target 0, no queue", components.FleetArgs{MaxSize: 2, Backlog: &components.FleetBacklogScaling{}},
			[]string{"Backlog.QueueName: is required", "Backlog.MessagesPerInstance: must be between 1 and 100000, but 0 was given"}},
		{"hook env set by hand", components.FleetArgs{MaxSize: 2, DrainHook: &components.FleetDrainHook{Heartbeat: time.Minute * 2},
			Env: map[string]pulumi.StringInput{"LIFECYCLE_HOOK_NAME": pulumi.String("x")}}, []string{"Env: must not set LIFECYCLE_HOOK_NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newWorker(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
