package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// newFleet runs a fleet with the given args, filling in the network it needs.
func newFleet(args components.FleetArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		args.VPCID = pulumi.String("vpc-1")
		args.VPCCIDR = "10.0.0.0/16"
		if args.SubnetIDs == nil {
			args.SubnetIDs = pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b")}
		}
		if args.Image == "" {
			args.Image = "ghcr.io/scalestack/scalestack:1.0.0"
		}
		_, err := components.NewFleet(ctx, "api", &args)
		return err
	}
}

func behindALB() *components.FleetLoadBalancing {
	return &components.FleetLoadBalancing{
		SecurityGroupID:       pulumi.String("sg-alb"),
		TargetGroupARN:        pulumi.String("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"),
		LoadBalancerARNSuffix: pulumi.String("app/web/1"),
		TargetGroupARNSuffix:  pulumi.String("targetgroup/web/1"),
	}
}

func TestFleetByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newFleet(components.FleetArgs{
		MinSize: 2, MaxSize: 6, LoadBalancer: behindALB(),
		Command: []string{"/app/api"}, MigrateCommand: []string{"/app/api", "migrate"},
		Env: map[string]pulumi.StringInput{"AWS_REGION": pulumi.String("us-east-1")},
	}))

	lt := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", "api-lt")
	checks := map[string]any{
		"imageId":                    "ami-0a1b2c3d4e5f67890",
		"instanceType":               "t4g.small",
		"metadataOptions.httpTokens": "required",
		"metadataOptions.httpPutResponseHopLimit":      float64(2),
		"networkInterfaces.0.associatePublicIpAddress": "false",
		"blockDeviceMappings.0.ebs.encrypted":          "true",
		"blockDeviceMappings.0.ebs.volumeType":         "gp3",
	}
	for path, want := range checks {
		if diff := cmp.Diff(want, lt.get(path)); diff != "" {
			t.Errorf("launch template %s (-want +got):\n%s", path, diff)
		}
	}
	if lt.str("iamInstanceProfile.arn") == "" {
		t.Error("launch template has no instance profile")
	}
	if lt.get("keyName") != nil {
		t.Error("launch template must not set an SSH key")
	}
	ud := lt.userData(t)
	for _, want := range []string{
		"dnf install -y docker",
		"docker run --rm --name scalestack --env-file /run/scalestack/app.env -p 8080:8080",
		"'ghcr.io/scalestack/scalestack:1.0.0' '/app/api'",
		"'ghcr.io/scalestack/scalestack:1.0.0' '/app/api' 'migrate'",
		"printf '%s=%s\\n' AWS_REGION 'us-east-1'",
		"ExecStop=/usr/bin/docker stop --time 60 scalestack",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q:\n%s", want, ud)
		}
	}

	asg := r.one(t, "aws:autoscaling/group:Group", "api-asg")
	asgChecks := map[string]any{
		"minSize": float64(2), "maxSize": float64(6), "desiredCapacity": float64(2),
		"healthCheckType": "ELB", "healthCheckGracePeriod": float64(180), "defaultInstanceWarmup": float64(120),
		"instanceRefresh.strategy": "Rolling", "instanceRefresh.preferences.minHealthyPercentage": float64(90),
		"launchTemplate.version": "1",
	}
	for path, want := range asgChecks {
		if diff := cmp.Diff(want, asg.get(path)); diff != "" {
			t.Errorf("ASG %s (-want +got):\n%s", path, diff)
		}
	}
	if n := len(asg.list("vpcZoneIdentifiers")); n != 2 {
		t.Errorf("ASG subnets: want 2, got %d", n)
	}
	if n := len(asg.list("enabledMetrics")); n == 0 {
		t.Error("ASG group metrics are not enabled")
	}
	if diff := cmp.Diff([]any{"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"}, asg.get("targetGroupArns")); diff != "" {
		t.Errorf("ASG target groups (-want +got):\n%s", diff)
	}

	var metrics []string
	for _, p := range r.ofType("aws:autoscaling/policy:Policy") {
		metrics = append(metrics, p.str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"))
	}
	if diff := cmp.Diff([]string{"ASGAverageCPUUtilization", "ALBRequestCountPerTarget"}, metrics); diff != "" {
		t.Errorf("target-tracking policies (-want +got):\n%s", diff)
	}
	if got := r.one(t, "aws:autoscaling/policy:Policy", "api-requests").str("targetTrackingConfiguration.predefinedMetricSpecification.resourceLabel"); got != "app/web/1/targetgroup/web/1" {
		t.Errorf("request-count resource label: got %q", got)
	}

	sg := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "api-sg")
	ingress := sg.list("ingress")
	if len(ingress) != 1 || get(ingress[0], "securityGroups.0") != "sg-alb" || get(ingress[0], "fromPort") != float64(8080) || get(ingress[0], "cidrBlocks") != nil {
		t.Errorf("instances must admit only the ALB's group on 8080, got %v", ingress)
	}
	checkRolePolicies(t, r)
}

func TestFleetWorkerWithSecrets(t *testing.T) {
	r := mustRun(t, "dev", nil, newFleet(components.FleetArgs{
		MinSize: 0, MaxSize: 4, Command: []string{"/app/worker"}, EgressPortsInVPC: []int{6379, 5432},
		SecretEnv:   map[string]pulumi.StringInput{"DATABASE_PASSWORD": pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf")},
		StopTimeout: 120 * time.Second,
	}))
	if in := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "api-sg").list("ingress"); len(in) != 0 {
		t.Errorf("a fleet outside the load balancer admits nothing, got %v", in)
	}
	var egressPorts []float64
	for _, e := range r.one(t, "aws:ec2/securityGroup:SecurityGroup", "api-sg").list("egress") {
		egressPorts = append(egressPorts, get(e, "fromPort").(float64))
	}
	if diff := cmp.Diff([]float64{443, 5432, 6379}, egressPorts); diff != "" {
		t.Errorf("egress ports (-want +got):\n%s", diff)
	}
	asg := r.one(t, "aws:autoscaling/group:Group", "api-asg")
	if asg.str("healthCheckType") != "EC2" || asg.get("targetGroupArns") != nil || asg.num("minSize") != 0 {
		t.Errorf("worker ASG: want EC2 health checks, no target group, min 0; got %v", asg.Inputs)
	}
	ud := r.one(t, "aws:ec2/launchTemplate:LaunchTemplate", "api-lt").userData(t)
	if !strings.Contains(ud, "--secret-id 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf'") || strings.Contains(ud, " -p ") {
		t.Errorf("worker user data: want the secret fetched by ARN and no published port:\n%s", ud)
	}
	var secretGrant bool
	for _, s := range policyStatements(t, r.one(t, "aws:iam/rolePolicy:RolePolicy", "api-policy").str("policy")) {
		if cmp.Equal(asStrings(s["Action"]), []string{"secretsmanager:GetSecretValue"}) {
			secretGrant = cmp.Equal(asStrings(s["Resource"]), []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"})
		}
	}
	if !secretGrant {
		t.Error("the role may not read exactly its own secret")
	}
	if n := len(r.ofType("aws:autoscaling/policy:Policy")); n != 1 {
		t.Errorf("a worker fleet has only the CPU policy here, got %d", n)
	}
}

func TestFleetRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.FleetArgs
		want []string
	}{
		{"x86 instance", components.FleetArgs{MinSize: 1, MaxSize: 2, InstanceType: "m5.large"}, []string{`InstanceType: must be an arm64 (Graviton) type such as t4g.small or m7g.large, because the AMI is arm64, but "m5.large" was given`}},
		{"max below min", components.FleetArgs{MinSize: 3, MaxSize: 2}, []string{"MaxSize: must be at least 1 and at least MinSize (3), but 2 was given"}},
		{"empty behind ALB", components.FleetArgs{MinSize: 0, MaxSize: 2, LoadBalancer: behindALB()}, []string{"MinSize: must be at least 1 for a fleet behind a load balancer"}},
		{"wildcard action", components.FleetArgs{MinSize: 1, MaxSize: 2, PolicyStatements: []components.PolicyStatement{{Actions: []string{"s3:*"}, Resources: pulumi.StringArray{pulumi.String("arn:aws:s3:::b")}}}}, []string{`PolicyStatements[0].Actions: must be single actions written service:Action without wildcards, but "s3:*" was given`}},
		{"bad env name", components.FleetArgs{MinSize: 1, MaxSize: 2, Env: map[string]pulumi.StringInput{"db-url": pulumi.String("x")}}, []string{`Env: names must match`, `"db-url"`}},
		{"image with spaces", components.FleetArgs{MinSize: 1, MaxSize: 2, Image: "app; rm -rf /"}, []string{"Image: must be a container image reference"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newFleet(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}

// readOnlyPrefixes are action-name prefixes that only read.
var readOnlyPrefixes = []string{"Get", "List", "Describe", "BatchGet", "BatchCheck"}

// checkRolePolicies asserts that no inline policy allows a wildcard action or a write action on every resource.
func checkRolePolicies(t *testing.T, r *recorder) {
	t.Helper()
	var docs []string
	for _, typ := range []string{"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"} {
		for _, p := range r.ofType(typ) {
			docs = append(docs, p.str("policy"))
		}
	}
	if len(docs) == 0 {
		t.Fatal("no IAM policies were recorded")
	}
	for _, doc := range docs {
		for _, s := range policyStatements(t, doc) {
			if s["Effect"] != "Allow" {
				continue
			}
			anyResource := false
			for _, res := range asStrings(s["Resource"]) {
				anyResource = anyResource || res == "*"
			}
			for _, action := range asStrings(s["Action"]) {
				_, name, _ := strings.Cut(action, ":")
				if strings.Contains(action, "*") {
					t.Errorf("statement allows the wildcard action %q: %v", action, s)
				}
				readOnly := false
				for _, p := range readOnlyPrefixes {
					readOnly = readOnly || strings.HasPrefix(name, p)
				}
				if anyResource && !readOnly {
					t.Errorf("statement allows the write action %q on every resource: %v", action, s)
				}
			}
		}
	}
}
