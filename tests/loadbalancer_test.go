package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func newLoadBalancer(args components.LoadBalancerArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if args.VPCID == nil {
			args.VPCID = pulumi.String("vpc-1")
			args.VPCCIDR = "10.0.0.0/16"
		}
		if args.SubnetIDs == nil {
			args.SubnetIDs = pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b")}
		}
		_, err := components.NewLoadBalancer(ctx, "web", &args)
		return err
	}
}

func TestLoadBalancerByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newLoadBalancer(components.LoadBalancerArgs{}))

	alb := r.one(t, "aws:lb/loadBalancer:LoadBalancer", "web-alb")
	wantALB := map[string]any{
		"internal": false, "loadBalancerType": "application", "dropInvalidHeaderFields": true,
		"desyncMitigationMode": "defensive", "enableDeletionProtection": false,
	}
	for k, want := range wantALB {
		if diff := cmp.Diff(want, alb.get(k)); diff != "" {
			t.Errorf("ALB %s (-want +got):\n%s", k, diff)
		}
	}
	if n := len(alb.list("subnets")); n != 2 {
		t.Errorf("ALB subnets: want 2, got %d", n)
	}
	if alb.get("accessLogs") != nil {
		t.Errorf("access logs are off by default, got %v", alb.get("accessLogs"))
	}

	sg := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "web-sg")
	var ports []float64
	for _, rule := range sg.list("ingress") {
		ports = append(ports, get(rule, "fromPort").(float64), get(rule, "toPort").(float64))
	}
	if diff := cmp.Diff([]float64{80, 80, 443, 443}, ports); diff != "" {
		t.Errorf("ALB ingress ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"10.0.0.0/16"}, sg.get("egress.0.cidrBlocks")); diff != "" || sg.num("egress.0.fromPort") != 8080 || len(sg.list("egress")) != 1 {
		t.Errorf("ALB egress: want only 8080 to the VPC, got %v", sg.get("egress"))
	}

	tg := r.one(t, "aws:lb/targetGroup:TargetGroup", "web-tg")
	if tg.str("healthCheck.path") != "/healthz" || tg.num("deregistrationDelay") != 30 || tg.get("stickiness.enabled") != false || tg.num("port") != 8080 {
		t.Errorf("target group: want /healthz, 30 s deregistration, no stickiness, port 8080; got %v", tg.Inputs)
	}

	// Without a domain there is one HTTP listener, and it forwards.
	listeners := r.ofType("aws:lb/listener:Listener")
	if len(listeners) != 1 || listeners[0].num("port") != 80 || listeners[0].str("defaultActions.0.type") != "forward" {
		t.Errorf("want one forwarding HTTP listener without a domain, got %v", listeners)
	}
}

func TestLoadBalancerWithDomainAndLogs(t *testing.T) {
	r := mustRun(t, "prod", nil, newLoadBalancer(components.LoadBalancerArgs{
		DomainName: "app.example.com", HostedZoneID: "Z123", DeletionProtection: true, AccessLogs: true,
		DeregistrationDelay: 45 * time.Second,
	}))
	https := r.one(t, "aws:lb/listener:Listener", "web-https")
	if https.num("port") != 443 || https.str("protocol") != "HTTPS" || https.str("sslPolicy") != components.TLSPolicy || https.str("certificateArn") == "" {
		t.Errorf("HTTPS listener: got %v", https.Inputs)
	}
	http := r.one(t, "aws:lb/listener:Listener", "web-http")
	if http.str("defaultActions.0.type") != "redirect" || http.str("defaultActions.0.redirect.protocol") != "HTTPS" || len(http.list("defaultActions")) != 1 {
		t.Errorf("HTTP listener must only redirect to HTTPS, got %v", http.get("defaultActions"))
	}
	if cert := r.one(t, "aws:acm/certificate:Certificate", "web-cert"); cert.str("validationMethod") != "DNS" {
		t.Errorf("certificate must be DNS-validated, got %v", cert.Inputs)
	}
	r.one(t, "aws:acm/certificateValidation:CertificateValidation", "web-cert-validated")
	if alias := r.one(t, "aws:route53/record:Record", "web-alias"); alias.str("name") != "app.example.com" || alias.str("zoneId") != "Z123" {
		t.Errorf("alias record: got %v", alias.Inputs)
	}

	alb := r.one(t, "aws:lb/loadBalancer:LoadBalancer", "web-alb")
	if alb.get("enableDeletionProtection") != true || alb.get("accessLogs.enabled") != true || alb.str("accessLogs.bucket") == "" {
		t.Errorf("ALB: want deletion protection and access logs, got %v", alb.Inputs)
	}
	if got := r.one(t, "aws:lb/targetGroup:TargetGroup", "web-tg").num("deregistrationDelay"); got != 45 {
		t.Errorf("deregistration delay: want 45, got %v", got)
	}
	sse := r.one(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "web-access-logs-sse")
	if sse.str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") != "AES256" {
		t.Errorf("access-log bucket must be encrypted, got %v", sse.Inputs)
	}
	pab := r.one(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "web-access-logs-pab")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.get(k) != true {
			t.Errorf("access-log bucket: %s must be true", k)
		}
	}
	policy := r.one(t, "aws:s3/bucketPolicy:BucketPolicy", "web-access-logs-policy").str("policy")
	if !strings.Contains(policy, "arn:aws:iam::127311923021:root") {
		t.Errorf("bucket policy must admit the region's ELB account, got %s", policy)
	}
}

func TestLoadBalancerOriginHeader(t *testing.T) {
	r := mustRun(t, "dev", nil, newLoadBalancer(components.LoadBalancerArgs{
		OriginHeaderName: "X-Origin-Verify", OriginHeaderValue: pulumi.String("s3cr3t"),
		IngressPrefixListIDs: pulumi.StringArray{pulumi.String("pl-3b927c52")},
	}))
	if got := r.one(t, "aws:lb/listener:Listener", "web-http").str("defaultActions.0.fixedResponse.statusCode"); got != "403" {
		t.Errorf("without the origin header the listener must answer 403, got %q", got)
	}
	rule := r.one(t, "aws:lb/listenerRule:ListenerRule", "web-from-origin")
	if rule.str("conditions.0.httpHeader.httpHeaderName") != "X-Origin-Verify" || rule.str("actions.0.type") != "forward" {
		t.Errorf("origin rule: got %v", rule.Inputs)
	}
	for _, in := range r.one(t, "aws:ec2/securityGroup:SecurityGroup", "web-sg").list("ingress") {
		if get(in, "cidrBlocks") != nil || get(in, "prefixListIds.0") != "pl-3b927c52" {
			t.Errorf("with prefix lists, ingress must come only from them, got %v", in)
		}
	}
}

func TestLoadBalancerRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.LoadBalancerArgs
		want []string
	}{
		{"one subnet", components.LoadBalancerArgs{SubnetIDs: pulumi.StringArray{pulumi.String("subnet-a")}}, []string{"SubnetIDs: must name public subnets in at least 2 availability zones, but 1 were given"}},
		{"long deregistration", components.LoadBalancerArgs{DeregistrationDelay: 300 * time.Second}, []string{"DeregistrationDelay: must be whole seconds from 0s to 120s, but 5m0s was given"}},
		{"no VPC block", components.LoadBalancerArgs{VPCID: pulumi.String("vpc-1")}, []string{"VPCCIDR: is required"}},
		{"domain without zone", components.LoadBalancerArgs{DomainName: "app.example.com"}, []string{"HostedZoneID: must be given together with DomainName"}},
		{"relative health path", components.LoadBalancerArgs{HealthCheckPath: "healthz", AppPort: 80}, []string{"HealthCheckPath:", "AppPort: must be between 1024 and 65535, but 80 was given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newLoadBalancer(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
