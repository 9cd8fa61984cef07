package components

import (
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FleetBacklogScaling scales a fleet of queue workers on the backlog each in-service instance faces.
type FleetBacklogScaling struct {
	// QueueName is the SQS queue whose visible messages are the backlog.
	QueueName pulumi.StringInput
	// MessagesPerInstance is the backlog per instance the group holds, 1 to 100000: the acceptable latency
	// divided by the average time an instance takes per job.
	MessagesPerInstance int
}

// FleetDrainHook holds terminating instances while their containers drain.
type FleetDrainHook struct {
	// Heartbeat is how long a terminating instance may take to drain before it goes anyway, 30s to 2h and at
	// least StopTimeout; for queue workers, at least the queue's visibility timeout.
	Heartbeat time.Duration
}

// drainHookEnv is the variable that tells the container the name of its group's drain hook.
const drainHookEnv = "LIFECYCLE_HOOK_NAME"

// drainHookName is the lifecycle hook's name; hook names are unique per group only, so a fixed name is safe.
func drainHookName(fleet string) string { return fleet + "-drain" }

func (a FleetArgs) validateScaling(p *problems) {
	if b := a.Backlog; b != nil {
		if b.QueueName == nil {
			p.addf("Backlog.QueueName", "is required")
		}
		p.intRange("Backlog.MessagesPerInstance", b.MessagesPerInstance, 1, 100000)
	}
	if h := a.DrainHook; h != nil {
		p.durationRange("DrainHook.Heartbeat", h.Heartbeat, 30*time.Second, 2*time.Hour)
		if h.Heartbeat < a.StopTimeout {
			p.addf("DrainHook.Heartbeat", "must be at least StopTimeout (%s), the time the container gets to drain, but %s was given", a.StopTimeout, h.Heartbeat)
		}
		if _, dup := a.Env[drainHookEnv]; dup {
			p.addf("Env", "must not set %s, which the drain hook sets", drainHookEnv)
		}
	}
}

// backlogScaling adds target tracking on backlog per instance (metric math: visible messages / in-service
// instances) and, for a group that may shrink to zero, a step policy that starts one instance when jobs wait and
// none is in service (with no instance the ratio has no value, so target tracking alone would never wake it).
func (f *Fleet) backlogScaling(ctx *pulumi.Context, name string, a FleetArgs, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption) error {
	b := a.Backlog
	if b == nil {
		return nil
	}
	type metric = autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArgs
	type stat = autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatArgs
	type metricID = autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs
	type dim = autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs
	type dims = autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArray
	if _, err := autoscaling.NewPolicy(ctx, name+"-backlog", &autoscaling.PolicyArgs{
		AutoscalingGroupName: f.GroupName,
		PolicyType:           pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
			CustomizedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs{
				Metrics: autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricArray{
					metric{Id: pulumi.String("visible"), ReturnData: pulumi.Bool(false), MetricStat: &stat{Stat: pulumi.String("Sum"), Metric: metricID{
						Namespace: pulumi.String("AWS/SQS"), MetricName: pulumi.String("ApproximateNumberOfMessagesVisible"),
						Dimensions: dims{dim{Name: pulumi.String("QueueName"), Value: b.QueueName}},
					}}},
					metric{Id: pulumi.String("instances"), ReturnData: pulumi.Bool(false), MetricStat: &stat{Stat: pulumi.String("Average"), Metric: metricID{
						Namespace: pulumi.String("AWS/AutoScaling"), MetricName: pulumi.String("GroupInServiceInstances"),
						Dimensions: dims{dim{Name: pulumi.String("AutoScalingGroupName"), Value: f.GroupName}},
					}}},
					metric{Id: pulumi.String("backlog"), Expression: pulumi.String("visible / instances"),
						Label: pulumi.String("visible messages per in-service instance"), ReturnData: pulumi.Bool(true)},
				},
			},
			TargetValue: pulumi.Float64(float64(b.MessagesPerInstance)),
		},
	}, parent); err != nil {
		return err
	}
	if a.MinSize > 0 {
		return nil
	}
	wake, err := autoscaling.NewPolicy(ctx, name+"-wake", &autoscaling.PolicyArgs{
		AutoscalingGroupName: f.GroupName,
		PolicyType:           pulumi.String("StepScaling"),
		AdjustmentType:       pulumi.String("ExactCapacity"),
		StepAdjustments: autoscaling.PolicyStepAdjustmentArray{autoscaling.PolicyStepAdjustmentArgs{
			MetricIntervalLowerBound: pulumi.String("0"), ScalingAdjustment: pulumi.Int(1),
		}},
	}, parent)
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewMetricAlarm(ctx, name+"-wake", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("Jobs wait and no worker is in service: start one (backlog tracking takes over from there)."),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(1),
		TreatMissingData:   pulumi.String("notBreaching"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("visible"), Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace: pulumi.String("AWS/SQS"), MetricName: pulumi.String("ApproximateNumberOfMessagesVisible"),
				Dimensions: pulumi.StringMap{"QueueName": b.QueueName}, Period: pulumi.Int(60), Stat: pulumi.String("Maximum"),
			}},
			cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("instances"), Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace: pulumi.String("AWS/AutoScaling"), MetricName: pulumi.String("GroupInServiceInstances"),
				Dimensions: pulumi.StringMap{"AutoScalingGroupName": f.GroupName}, Period: pulumi.Int(60), Stat: pulumi.String("Maximum"),
			}},
			cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("waiting"), Expression: pulumi.String("IF(instances < 1, visible, 0)"),
				Label: pulumi.String("jobs waiting with no worker in service"), ReturnData: pulumi.Bool(true)},
		},
		AlarmActions: pulumi.Array{wake.Arn},
		Tags:         tags("wake"),
	}, parent)
	return err
}

// drainHook adds the termination lifecycle hook and lets the instances (only) complete it or extend it on their
// own group; DescribeAutoScalingInstances, which finds the group's name, is read-only and has no resource scope.
func (f *Fleet) drainHook(ctx *pulumi.Context, name string, a FleetArgs, parent pulumi.ResourceOrInvokeOption) error {
	h := a.DrainHook
	if h == nil {
		return nil
	}
	if _, err := autoscaling.NewLifecycleHook(ctx, name+"-drain", &autoscaling.LifecycleHookArgs{
		Name:                 pulumi.String(drainHookName(name)),
		AutoscalingGroupName: f.GroupName,
		LifecycleTransition:  pulumi.String("autoscaling:EC2_INSTANCE_TERMINATING"),
		HeartbeatTimeout:     pulumi.Int(int(h.Heartbeat / time.Second)),
		DefaultResult:        pulumi.String("CONTINUE"),
	}, parent); err != nil {
		return err
	}
	_, err := iam.NewRolePolicy(ctx, name+"-drain-policy", &iam.RolePolicyArgs{
		Role: f.RoleName,
		Policy: policyDocument(
			PolicyStatement{Sid: "CompleteOwnDrainHook", Actions: []string{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"},
				Resources: pulumi.StringArray{f.GroupARN}},
			PolicyStatement{Sid: "FindOwnGroup", Actions: []string{"autoscaling:DescribeAutoScalingInstances"},
				Resources: pulumi.StringArray{pulumi.String("*")}},
		),
	}, parent)
	return err
}
