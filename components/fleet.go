package components

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AL2023ARM64Parameter is the public SSM parameter that always names the current Amazon Linux 2023 arm64 AMI.
const AL2023ARM64Parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"

// FleetLoadBalancing puts a fleet behind a LoadBalancer's target group.
type FleetLoadBalancing struct {
	// SecurityGroupID is the load balancer's group: the only source the instances admit, on AppPort only.
	SecurityGroupID pulumi.StringInput
	// TargetGroupARN is the target group the instances register in.
	TargetGroupARN pulumi.StringInput
	// LoadBalancerARNSuffix and TargetGroupARNSuffix identify the pair for request-count scaling.
	LoadBalancerARNSuffix pulumi.StringInput
	TargetGroupARNSuffix  pulumi.StringInput
	// AppPort is the container's port. Default: 8080.
	AppPort int
	// RequestsPerTarget is the target of the ALBRequestCountPerTarget tracking policy (requests per target per
	// minute). Default: 1000.
	RequestsPerTarget int
}

// FleetArgs configures a Fleet.
type FleetArgs struct {
	// VPCID is the VPC of the instances.
	VPCID pulumi.StringInput
	// VPCCIDR is the VPC's block, the destination of EgressPortsInVPC.
	VPCCIDR string
	// SubnetIDs are the private subnets to spread the instances over, one per availability zone.
	SubnetIDs pulumi.StringArray
	// Image is the container image to run.
	Image string
	// Command overrides the image's command, e.g. ["/app/worker"]. Default: the image's CMD.
	Command []string
	// MigrateCommand runs to completion in the image before the app starts on every boot, e.g.
	// ["/app/api", "migrate"]. Default: nothing.
	MigrateCommand []string
	// LoadBalancer puts the fleet behind a target group. Default: none, and then the instances admit no inbound
	// traffic at all.
	LoadBalancer *FleetLoadBalancing
	// InstanceType is an arm64 (Graviton) instance type. Default: t4g.small.
	InstanceType string
	// AMIParameter is the SSM parameter naming the AMI, read on every deployment so that a new AMI rolls out
	// through an instance refresh. Default: AL2023ARM64Parameter.
	AMIParameter string
	// VolumeGiB is the encrypted gp3 root volume's size, 8 to 1024. Default: 20.
	VolumeGiB int
	// MinSize, MaxSize and DesiredCapacity bound the group. MaxSize must be at least 1 and at least MinSize.
	// DesiredCapacity is only the initial size (scaling policies own it afterwards). Default for
	// DesiredCapacity: MinSize.
	MinSize, MaxSize, DesiredCapacity int
	// HealthCheckGrace is how long a new instance may take to become healthy. Default: 180s.
	HealthCheckGrace time.Duration
	// InstanceWarmup is how long a new instance's metrics are left out of scaling decisions. Default: 120s.
	InstanceWarmup time.Duration
	// CPUTargetPercent is the target of the average-CPU tracking policy, 10 to 90. Default: 50.
	CPUTargetPercent int
	// Backlog scales the group on its job queue's backlog per in-service instance instead of on average CPU
	// (a worker's CPU says little about how far behind it is, and two trackers would fight over scale-in).
	// Default: none, and then the group tracks average CPU.
	Backlog *FleetBacklogScaling
	// DrainHook holds each terminating instance until its container has stopped, finishing its in-flight work,
	// and passes the hook's name to the container as LIFECYCLE_HOOK_NAME. Default: none.
	DrainHook *FleetDrainHook
	// StopTimeout is how long the container gets to drain after SIGTERM before it is killed. Default: 60s.
	StopTimeout time.Duration
	// Env is the container's plain environment; never put a secret here (it lands in user data). Default: none.
	Env map[string]pulumi.StringInput
	// SecretEnv maps environment variable names to Secrets Manager secret ARNs; the instance reads them at every
	// container start through its role, so no secret value reaches user data. Default: none.
	SecretEnv map[string]pulumi.StringInput
	// PolicyStatements grant the instances' role what the app needs beyond logs and its secrets. Default: none.
	PolicyStatements []PolicyStatement
	// EgressPortsInVPC are TCP ports the instances may reach inside the VPC (such as 5432 and 6379), besides
	// HTTPS to anywhere. Default: none.
	EgressPortsInVPC []int
	// LogRetentionDays is how long container logs are kept. Default: 30.
	LogRetentionDays int
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// Fleet is an auto-scaling group of hardened instances that each run one stateless app container.
type Fleet struct {
	pulumi.ResourceState

	// GroupName and GroupARN identify the auto-scaling group.
	GroupName pulumi.StringOutput
	GroupARN  pulumi.StringOutput
	// SecurityGroupID is the instances' group; data stores admit traffic from it.
	SecurityGroupID pulumi.StringOutput
	// RoleName and RoleARN identify the instances' role.
	RoleName pulumi.StringOutput
	RoleARN  pulumi.StringOutput
	// LaunchTemplateID is the instances' launch template.
	LaunchTemplateID pulumi.StringOutput
	// LogGroupName receives the containers' output.
	LogGroupName pulumi.StringOutput
	// UserData is the rendered boot script (not base64), exposed for review and tests.
	UserData pulumi.StringOutput
}

func (a FleetArgs) withDefaults() FleetArgs {
	if a.InstanceType == "" {
		a.InstanceType = "t4g.small"
	}
	if a.AMIParameter == "" {
		a.AMIParameter = AL2023ARM64Parameter
	}
	if a.VolumeGiB == 0 {
		a.VolumeGiB = 20
	}
	if a.DesiredCapacity == 0 {
		a.DesiredCapacity = a.MinSize
	}
	if a.HealthCheckGrace == 0 {
		a.HealthCheckGrace = 180 * time.Second
	}
	if a.InstanceWarmup == 0 {
		a.InstanceWarmup = 120 * time.Second
	}
	if a.CPUTargetPercent == 0 {
		a.CPUTargetPercent = 50
	}
	if a.StopTimeout == 0 {
		a.StopTimeout = 60 * time.Second
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = 30
	}
	if a.LoadBalancer != nil {
		lbArgs := *a.LoadBalancer
		if lbArgs.AppPort == 0 {
			lbArgs.AppPort = 8080
		}
		if lbArgs.RequestsPerTarget == 0 {
			lbArgs.RequestsPerTarget = 1000
		}
		a.LoadBalancer = &lbArgs
	}
	return a
}

// ARMInstanceType reports whether an instance type is a Graviton (arm64) type, such as t4g.small or c7gn.large.
func ARMInstanceType(instanceType string) bool {
	family, size, ok := strings.Cut(instanceType, ".")
	if !ok || size == "" || len(family) < 2 {
		return false
	}
	gen := strings.IndexAny(family, "0123456789")
	return gen > 0 && strings.Contains(family[gen:], "g")
}

func (a FleetArgs) validate(name string) error {
	p := newProblems("Fleet", name)
	if a.VPCID == nil {
		p.addf("VPCID", "is required")
	}
	if len(a.SubnetIDs) == 0 {
		p.addf("SubnetIDs", "must name at least one private subnet, but none was given")
	}
	if a.Image == "" || strings.ContainsAny(a.Image, " \t\n'\"%$") {
		p.addf("Image", "must be a container image reference such as ghcr.io/org/app:1.2.3, but %q was given", a.Image)
	}
	for _, field := range []struct {
		name string
		args []string
	}{{"Command", a.Command}, {"MigrateCommand", a.MigrateCommand}} {
		for _, arg := range field.args {
			if arg == "" || strings.ContainsAny(arg, "\n'\"%$\\") {
				p.addf(field.name, "arguments may not be empty or contain quotes, %%, $, backslashes or newlines, but %q was given", arg)
			}
		}
	}
	if !ARMInstanceType(a.InstanceType) {
		p.addf("InstanceType", "must be an arm64 (Graviton) type such as t4g.small or m7g.large, because the AMI is arm64, but %q was given", a.InstanceType)
	}
	p.intRange("VolumeGiB", a.VolumeGiB, 8, 1024)
	if a.MinSize < 0 {
		p.addf("MinSize", "must be 0 or more, but %d was given", a.MinSize)
	}
	if a.MaxSize < 1 || a.MaxSize < a.MinSize {
		p.addf("MaxSize", "must be at least 1 and at least MinSize (%d), but %d was given", a.MinSize, a.MaxSize)
	}
	if a.DesiredCapacity < a.MinSize || a.DesiredCapacity > a.MaxSize {
		p.addf("DesiredCapacity", "must be between MinSize (%d) and MaxSize (%d), but %d was given", a.MinSize, a.MaxSize, a.DesiredCapacity)
	}
	if a.LoadBalancer != nil && a.MinSize < 1 {
		p.addf("MinSize", "must be at least 1 for a fleet behind a load balancer, but %d was given", a.MinSize)
	}
	p.durationRange("HealthCheckGrace", a.HealthCheckGrace, 0, time.Hour)
	p.durationRange("InstanceWarmup", a.InstanceWarmup, 0, time.Hour)
	p.durationRange("StopTimeout", a.StopTimeout, time.Second, 15*time.Minute)
	p.intRange("CPUTargetPercent", a.CPUTargetPercent, 10, 90)
	a.validateScaling(p)
	p.intRange("LogRetentionDays", a.LogRetentionDays, 1, 3653)
	for k := range a.Env {
		if !envName.MatchString(k) || k == "INSTANCE_ID" {
			p.addf("Env", "names must match %s and not be INSTANCE_ID (set by the instance), but %q was given", envName, k)
		}
	}
	for k, v := range a.SecretEnv {
		if !envName.MatchString(k) || v == nil {
			p.addf("SecretEnv", "names must match %s and map to a secret ARN, but %q was given", envName, k)
		}
		if _, dup := a.Env[k]; dup {
			p.addf("SecretEnv", "%q is also in Env; a variable is either plain or secret", k)
		}
	}
	validateStatements(p, "PolicyStatements", a.PolicyStatements)
	for _, port := range a.EgressPortsInVPC {
		p.intRange("EgressPortsInVPC", port, 1, 65535)
	}
	if len(a.EgressPortsInVPC) > 0 && a.VPCCIDR == "" {
		p.addf("VPCCIDR", "is required with EgressPortsInVPC")
	}
	if lbArgs := a.LoadBalancer; lbArgs != nil {
		if lbArgs.SecurityGroupID == nil || lbArgs.TargetGroupARN == nil || lbArgs.LoadBalancerARNSuffix == nil || lbArgs.TargetGroupARNSuffix == nil {
			p.addf("LoadBalancer", "needs SecurityGroupID, TargetGroupARN, LoadBalancerARNSuffix and TargetGroupARNSuffix")
		}
		p.intRange("LoadBalancer.AppPort", lbArgs.AppPort, 1024, 65535)
		p.intRange("LoadBalancer.RequestsPerTarget", lbArgs.RequestsPerTarget, 10, 100000)
	}
	return p.err()
}

// NewFleet registers a Fleet.
func NewFleet(ctx *pulumi.Context, name string, args *FleetArgs, opts ...pulumi.ResourceOption) (*Fleet, error) {
	var a FleetArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	f := &Fleet{}
	if err := ctx.RegisterComponentResource(fleetType, name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)
	tags := tagger(name, a.Tags)

	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: a.AMIParameter}, parent)
	if err != nil {
		return nil, fmt.Errorf("fleet %q: reading the AMI from SSM parameter %s: %w", name, a.AMIParameter, err)
	}
	region, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("fleet %q: looking up the region: %w", name, err)
	}

	sg, err := f.securityGroup(ctx, name, a, tags, parent)
	if err != nil {
		return nil, err
	}
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-logs", &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            tags("logs"),
	}, parent)
	if err != nil {
		return nil, err
	}
	f.LogGroupName = logs.Name
	profile, ecrRegistry, err := f.role(ctx, name, a, logs, tags, parent)
	if err != nil {
		return nil, err
	}

	if a.DrainHook != nil {
		env := map[string]pulumi.StringInput{drainHookEnv: pulumi.String(drainHookName(name))}
		for k, v := range a.Env {
			env[k] = v
		}
		a.Env = env
	}
	f.UserData = f.renderUserData(name, a, region.Name, ecrRegistry, logs.Name)
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-lt", &ec2.LaunchTemplateArgs{
		ImageId:      pulumi.String(ami.Value),
		InstanceType: pulumi.String(a.InstanceType),
		IamInstanceProfile: &ec2.LaunchTemplateIamInstanceProfileArgs{
			Arn: profile.Arn,
		},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(2), // containers sit one hop behind the host
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{ec2.LaunchTemplateNetworkInterfaceArgs{
			DeviceIndex:              pulumi.Int(0),
			AssociatePublicIpAddress: pulumi.String("false"),
			DeleteOnTermination:      pulumi.String("true"),
			SecurityGroups:           pulumi.StringArray{sg.ID()},
		}},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeType:          pulumi.String("gp3"),
				VolumeSize:          pulumi.Int(a.VolumeGiB),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		Monitoring: &ec2.LaunchTemplateMonitoringArgs{Enabled: pulumi.Bool(true)},
		UserData: f.UserData.ApplyT(func(s string) string {
			return base64.StdEncoding.EncodeToString([]byte(s))
		}).(pulumi.StringOutput),
		UpdateDefaultVersion: pulumi.Bool(true),
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: tags("instance")},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: tags("volume")},
		},
		Tags: tags("lt"),
	}, parent)
	if err != nil {
		return nil, err
	}
	f.LaunchTemplateID = lt.ID().ToStringOutput()

	if err := f.group(ctx, name, a, lt, parent); err != nil {
		return nil, err
	}
	if err := f.backlogScaling(ctx, name, a, tags, parent); err != nil {
		return nil, err
	}
	if err := f.drainHook(ctx, name, a, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"groupName":       f.GroupName,
		"securityGroupId": f.SecurityGroupID,
		"roleArn":         f.RoleARN,
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// securityGroup admits the load balancer's group on the app port (and nothing else), and lets the instances out
// on HTTPS (AWS APIs, image registries) and on the declared ports inside the VPC.
func (f *Fleet) securityGroup(ctx *pulumi.Context, name string, a FleetArgs, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption) (*ec2.SecurityGroup, error) {
	ingress := ec2.SecurityGroupIngressArray{}
	if lbArgs := a.LoadBalancer; lbArgs != nil {
		ingress = append(ingress, ec2.SecurityGroupIngressArgs{
			Description:    pulumi.String("app port from the load balancer only"),
			Protocol:       pulumi.String("tcp"),
			FromPort:       pulumi.Int(lbArgs.AppPort),
			ToPort:         pulumi.Int(lbArgs.AppPort),
			SecurityGroups: pulumi.StringArray{lbArgs.SecurityGroupID},
		})
	}
	egress := ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
		Description: pulumi.String("HTTPS to AWS APIs and image registries"),
		Protocol:    pulumi.String("tcp"),
		FromPort:    pulumi.Int(443),
		ToPort:      pulumi.Int(443),
		CidrBlocks:  pulumi.StringArray{pulumi.String("0.0.0.0/0")},
	}}
	ports := append([]int(nil), a.EgressPortsInVPC...)
	sort.Ints(ports)
	for _, port := range ports {
		egress = append(egress, ec2.SecurityGroupEgressArgs{
			Description: pulumi.String(fmt.Sprintf("port %d inside the VPC", port)),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(port),
			ToPort:      pulumi.Int(port),
			CidrBlocks:  pulumi.StringArray{pulumi.String(a.VPCCIDR)},
		})
	}
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("Fleet instances: no inbound except the app port from the load balancer"),
		Ingress:     ingress,
		Egress:      egress,
		Tags:        tags("sg"),
	}, parent)
	if err != nil {
		return nil, err
	}
	f.SecurityGroupID = sg.ID().ToStringOutput()
	return sg, nil
}

// role creates the instances' role: Session Manager (instead of SSH), writing to its own log group, reading its
// own secrets, pulling its image from ECR when it lives there, and the caller's statements.
func (f *Fleet) role(ctx *pulumi.Context, name string, a FleetArgs, logs *cloudwatch.LogGroup,
	tags func(string) pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) (*iam.InstanceProfile, string, error) {
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("ec2.amazonaws.com")),
		Tags:             tags("role"),
	}, parent)
	if err != nil {
		return nil, "", err
	}
	f.RoleName, f.RoleARN = role.Name, role.Arn
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"),
	}, parent); err != nil {
		return nil, "", err
	}

	stmts := []PolicyStatement{{
		Sid:       "ContainerLogs",
		Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resources: pulumi.StringArray{pulumi.Sprintf("%s:log-stream:*", logs.Arn)},
	}}
	if len(a.SecretEnv) > 0 {
		var arns pulumi.StringArray
		for _, k := range sortedKeys(a.SecretEnv) {
			arns = append(arns, a.SecretEnv[k])
		}
		stmts = append(stmts, PolicyStatement{Sid: "OwnSecrets", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: arns})
	}
	var registry string
	if m := ecrImage.FindStringSubmatch(a.Image); m != nil {
		registry = strings.SplitN(a.Image, "/", 2)[0]
		stmts = append(stmts,
			// GetAuthorizationToken has no resource to scope to; it only issues a registry login.
			PolicyStatement{Sid: "RegistryLogin", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: pulumi.StringArray{pulumi.String("*")}},
			PolicyStatement{Sid: "PullImage", Actions: []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
				Resources: pulumi.StringArray{pulumi.String(fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", m[2], m[1], m[3]))}},
		)
	}
	stmts = append(stmts, a.PolicyStatements...)
	if _, err := iam.NewRolePolicy(ctx, name+"-policy", &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: policyDocument(stmts...),
	}, parent); err != nil {
		return nil, "", err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name, Tags: tags("profile")}, parent)
	return profile, registry, err
}

// renderUserData resolves the env contract and the secrets' ARNs and renders the boot script.
func (f *Fleet) renderUserData(name string, a FleetArgs, region, ecrRegistry string, logGroup pulumi.StringOutput) pulumi.StringOutput {
	envKeys, secretKeys := sortedKeys(a.Env), sortedKeys(a.SecretEnv)
	inputs := []any{logGroup}
	for _, k := range envKeys {
		inputs = append(inputs, a.Env[k])
	}
	for _, k := range secretKeys {
		inputs = append(inputs, a.SecretEnv[k])
	}
	b := bootScript{
		name: name, image: a.Image, command: a.Command, migrate: a.MigrateCommand, region: region,
		stopTimeoutS: int(a.StopTimeout / time.Second), ecrRegistry: ecrRegistry,
	}
	if a.LoadBalancer != nil {
		b.appPort, b.publishedPort = a.LoadBalancer.AppPort, true
	}
	if a.DrainHook != nil {
		b.drainHook = drainHookName(name)
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		b := b
		b.logGroup = v[0].(string)
		b.env, b.secretARNs = map[string]string{}, map[string]string{}
		for i, k := range envKeys {
			b.env[k] = v[1+i].(string)
		}
		for i, k := range secretKeys {
			b.secretARNs[k] = v[1+len(envKeys)+i].(string)
		}
		for k, val := range b.env {
			if strings.ContainsAny(val, "\n\r") {
				return "", fmt.Errorf("fleet %q: Env[%s]: values may not span lines", name, k)
			}
		}
		return b.render(), nil
	}).(pulumi.StringOutput)
}

// group creates the auto-scaling group and its target-tracking policies.
func (f *Fleet) group(ctx *pulumi.Context, name string, a FleetArgs, lt *ec2.LaunchTemplate, parent pulumi.ResourceOrInvokeOption) error {
	groupArgs := &autoscaling.GroupArgs{
		VpcZoneIdentifiers: a.SubnetIDs,
		MinSize:            pulumi.Int(a.MinSize),
		MaxSize:            pulumi.Int(a.MaxSize),
		DesiredCapacity:    pulumi.Int(a.DesiredCapacity),
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		HealthCheckType:        pulumi.String("EC2"),
		HealthCheckGracePeriod: pulumi.Int(int(a.HealthCheckGrace / time.Second)),
		DefaultInstanceWarmup:  pulumi.Int(int(a.InstanceWarmup / time.Second)),
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(90),
				AutoRollback:         pulumi.Bool(true),
			},
		},
		MetricsGranularity: pulumi.String("1Minute"),
		EnabledMetrics: pulumi.StringArray{
			pulumi.String("GroupMinSize"), pulumi.String("GroupMaxSize"), pulumi.String("GroupDesiredCapacity"),
			pulumi.String("GroupInServiceInstances"), pulumi.String("GroupPendingInstances"),
			pulumi.String("GroupTerminatingInstances"), pulumi.String("GroupTotalInstances"),
		},
		Tags: autoscaling.GroupTagArray{autoscaling.GroupTagArgs{
			Key: pulumi.String("Name"), Value: pulumi.String(name), PropagateAtLaunch: pulumi.Bool(true),
		}},
	}
	if a.LoadBalancer != nil {
		groupArgs.HealthCheckType = pulumi.String("ELB")
		groupArgs.TargetGroupArns = pulumi.StringArray{a.LoadBalancer.TargetGroupARN}
	}
	// Scaling policies own the desired capacity once the group exists; a deployment must not reset it.
	asg, err := autoscaling.NewGroup(ctx, name+"-asg", groupArgs, parent, pulumi.IgnoreChanges([]string{"desiredCapacity"}))
	if err != nil {
		return err
	}
	f.GroupName, f.GroupARN = asg.Name, asg.Arn

	if a.Backlog == nil {
		if _, err := autoscaling.NewPolicy(ctx, name+"-cpu", &autoscaling.PolicyArgs{
			AutoscalingGroupName: asg.Name,
			PolicyType:           pulumi.String("TargetTrackingScaling"),
			TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
				PredefinedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
				},
				TargetValue: pulumi.Float64(float64(a.CPUTargetPercent)),
			},
		}, parent); err != nil {
			return err
		}
	}
	if lbArgs := a.LoadBalancer; lbArgs != nil {
		if _, err := autoscaling.NewPolicy(ctx, name+"-requests", &autoscaling.PolicyArgs{
			AutoscalingGroupName: asg.Name,
			PolicyType:           pulumi.String("TargetTrackingScaling"),
			TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
				PredefinedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String("ALBRequestCountPerTarget"),
					ResourceLabel:        pulumi.Sprintf("%s/%s", lbArgs.LoadBalancerARNSuffix, lbArgs.TargetGroupARNSuffix),
				},
				TargetValue: pulumi.Float64(float64(lbArgs.RequestsPerTarget)),
			},
		}, parent); err != nil {
			return err
		}
	}
	return nil
}
