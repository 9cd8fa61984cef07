package components

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TLSPolicy is the ALB's HTTPS security policy: TLS 1.3, with TLS 1.2 kept for older clients.
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// LoadBalancerArgs configures a LoadBalancer.
type LoadBalancerArgs struct {
	// VPCID is the VPC of the load balancer and its targets.
	VPCID pulumi.StringInput
	// VPCCIDR is the VPC's block; the load balancer may send traffic only there, on AppPort.
	VPCCIDR string
	// SubnetIDs are public subnets in at least two availability zones.
	SubnetIDs pulumi.StringArray
	// AppPort is the port the targets listen on. Default: 8080.
	AppPort int
	// HealthCheckPath is the targets' health-check path. Default: /healthz.
	HealthCheckPath string
	// DeregistrationDelay is how long a deregistering target keeps its in-flight requests, 0 to 120s, whole
	// seconds. Default: 30s.
	DeregistrationDelay time.Duration
	// DomainName, when set, gets an ACM certificate validated through Route 53, an alias record to the load
	// balancer, an HTTPS listener on 443 and an HTTP listener that only redirects to it. Without it the HTTP
	// listener forwards (meant for dev stacks only). Default: none.
	DomainName string
	// HostedZoneID is the Route 53 zone of DomainName; required with it. Default: none.
	HostedZoneID string
	// DeletionProtection keeps the load balancer from being deleted. Default: off.
	DeletionProtection bool
	// AccessLogs writes access logs to an encrypted, private bucket created for them. Default: off.
	AccessLogs bool
	// AccessLogRetentionDays is how long access logs are kept. Default: 90.
	AccessLogRetentionDays int
	// IngressPrefixListIDs, when set, admit only these managed prefix lists (for example CloudFront's
	// origin-facing list) instead of anywhere, and only on the serving port: 443 with DomainName, else 80 (each
	// rule naming a list counts as the list's maximum entries against the group's rule quota). Default: 80 and
	// 443 from anywhere.
	IngressPrefixListIDs pulumi.StringArray
	// OriginHeaderName and OriginHeaderValue, when both set, make the listeners forward only requests that carry
	// this header (a secret shared with the CDN) and answer 403 to all others. Default: no header required.
	OriginHeaderName  string
	OriginHeaderValue pulumi.StringInput
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// LoadBalancer is an internet-facing Application Load Balancer with its own security group, one target group and
// its listeners.
type LoadBalancer struct {
	pulumi.ResourceState

	// ARN, ARNSuffix, DNSName and ZoneID describe the load balancer.
	ARN       pulumi.StringOutput
	ARNSuffix pulumi.StringOutput
	DNSName   pulumi.StringOutput
	ZoneID    pulumi.StringOutput
	// SecurityGroupID is the load balancer's group; targets admit traffic from it.
	SecurityGroupID pulumi.StringOutput
	// TargetGroupARN and TargetGroupARNSuffix describe the target group the fleet registers in.
	TargetGroupARN       pulumi.StringOutput
	TargetGroupARNSuffix pulumi.StringOutput
	// AppPort is the targets' port.
	AppPort int
	// URL is where users reach the service through the load balancer.
	URL pulumi.StringOutput
}

func (a LoadBalancerArgs) withDefaults() LoadBalancerArgs {
	if a.AppPort == 0 {
		a.AppPort = 8080
	}
	if a.HealthCheckPath == "" {
		a.HealthCheckPath = "/healthz"
	}
	if a.DeregistrationDelay == 0 {
		a.DeregistrationDelay = 30 * time.Second
	}
	if a.AccessLogRetentionDays == 0 {
		a.AccessLogRetentionDays = 90
	}
	return a
}

func (a LoadBalancerArgs) validate(name string) error {
	p := newProblems("LoadBalancer", name)
	if a.VPCID == nil {
		p.addf("VPCID", "is required")
	}
	if a.VPCCIDR == "" {
		p.addf("VPCCIDR", "is required: the load balancer's only egress rule goes to it")
	}
	if len(a.SubnetIDs) < 2 {
		p.addf("SubnetIDs", "must name public subnets in at least 2 availability zones, but %d were given", len(a.SubnetIDs))
	}
	p.intRange("AppPort", a.AppPort, 1024, 65535)
	if !strings.HasPrefix(a.HealthCheckPath, "/") {
		p.addf("HealthCheckPath", "must be an absolute path such as /healthz, but %q was given", a.HealthCheckPath)
	}
	if a.DeregistrationDelay < 0 || a.DeregistrationDelay > 120*time.Second || a.DeregistrationDelay%time.Second != 0 {
		p.addf("DeregistrationDelay", "must be whole seconds from 0s to 120s, but %s was given", a.DeregistrationDelay)
	}
	if (a.DomainName == "") != (a.HostedZoneID == "") {
		p.addf("HostedZoneID", "must be given together with DomainName, but DomainName=%q and HostedZoneID=%q were given",
			a.DomainName, a.HostedZoneID)
	}
	if (a.OriginHeaderName == "") != (a.OriginHeaderValue == nil) {
		p.addf("OriginHeaderName", "must be given together with OriginHeaderValue")
	}
	p.intRange("AccessLogRetentionDays", a.AccessLogRetentionDays, 1, 3653)
	return p.err()
}

// NewLoadBalancer registers a LoadBalancer.
func NewLoadBalancer(ctx *pulumi.Context, name string, args *LoadBalancerArgs, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	var a LoadBalancerArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	l := &LoadBalancer{AppPort: a.AppPort}
	if err := ctx.RegisterComponentResource(loadBalancerType, name, l, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(l)
	tags := tagger(name, a.Tags)

	ports := []int{80, 443}
	if len(a.IngressPrefixListIDs) > 0 {
		// A rule that names a prefix list counts as many rules as the list may hold entries (CloudFront's
		// origin-facing list: 55, of a default quota of 60 per group), so only the port that serves is opened:
		// 443 with a domain, 80 without.
		ports = []int{80}
		if a.DomainName != "" {
			ports = []int{443}
		}
	}
	ingress := ec2.SecurityGroupIngressArray{}
	for _, port := range ports {
		rule := ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("HTTP(S) from viewers"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(port),
			ToPort:      pulumi.Int(port),
		}
		if len(a.IngressPrefixListIDs) > 0 {
			rule.PrefixListIds = a.IngressPrefixListIDs
		} else {
			rule.CidrBlocks = pulumi.StringArray{pulumi.String("0.0.0.0/0")}
			rule.Ipv6CidrBlocks = pulumi.StringArray{pulumi.String("::/0")}
		}
		ingress = append(ingress, rule)
	}
	sg, err := ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       a.VPCID,
		Description: pulumi.String("Load balancer: 80 and 443 in, the app port out to the VPC only"),
		Ingress:     ingress,
		// Egress goes to the VPC's block rather than to the fleet's group, so the two groups never reference each
		// other (which would be a dependency cycle).
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Description: pulumi.String("to the targets"),
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(a.AppPort),
			ToPort:      pulumi.Int(a.AppPort),
			CidrBlocks:  pulumi.StringArray{pulumi.String(a.VPCCIDR)},
		}},
		Tags: tags("sg"),
	}, parent)
	if err != nil {
		return nil, err
	}
	l.SecurityGroupID = sg.ID().ToStringOutput()

	albArgs := &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  a.SubnetIDs,
		SecurityGroups:           pulumi.StringArray{sg.ID()},
		DropInvalidHeaderFields:  pulumi.Bool(true),
		DesyncMitigationMode:     pulumi.String("defensive"),
		EnableDeletionProtection: pulumi.Bool(a.DeletionProtection),
		EnableHttp2:              pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(60),
		Tags:                     tags("alb"),
	}
	if a.AccessLogs {
		bucket, err := accessLogBucket(ctx, name, a, tags, parent)
		if err != nil {
			return nil, err
		}
		albArgs.AccessLogs = &lb.LoadBalancerAccessLogsArgs{Bucket: bucket, Prefix: pulumi.String("alb"), Enabled: pulumi.Bool(true)}
	}
	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", albArgs, parent)
	if err != nil {
		return nil, err
	}
	l.ARN, l.ARNSuffix, l.DNSName, l.ZoneID = alb.Arn, alb.ArnSuffix, alb.DnsName, alb.ZoneId

	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		VpcId:               a.VPCID,
		Port:                pulumi.Int(a.AppPort),
		Protocol:            pulumi.String("HTTP"),
		TargetType:          pulumi.String("instance"),
		DeregistrationDelay: pulumi.Int(int(a.DeregistrationDelay / time.Second)),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Path:               pulumi.String(a.HealthCheckPath),
			Protocol:           pulumi.String("HTTP"),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(10),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(3),
		},
		// Sessions live in JWTs and Redis, so any target may serve any request.
		Stickiness: &lb.TargetGroupStickinessArgs{Enabled: pulumi.Bool(false), Type: pulumi.String("lb_cookie")},
		Tags:       tags("tg"),
	}, parent)
	if err != nil {
		return nil, err
	}
	l.TargetGroupARN, l.TargetGroupARNSuffix = tg.Arn, tg.ArnSuffix

	forward := lb.ListenerDefaultActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}
	if a.OriginHeaderName != "" {
		forward = lb.ListenerDefaultActionArgs{Type: pulumi.String("fixed-response"), FixedResponse: &lb.ListenerDefaultActionFixedResponseArgs{
			ContentType: pulumi.String("text/plain"), StatusCode: pulumi.String("403"), MessageBody: pulumi.String("forbidden"),
		}}
	}
	var serving *lb.Listener
	if a.DomainName != "" {
		certARN, err := certificate(ctx, name, a.DomainName, a.HostedZoneID, tags, parent)
		if err != nil {
			return nil, err
		}
		serving, err = lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			SslPolicy:       pulumi.String(TLSPolicy),
			CertificateArn:  certARN,
			DefaultActions:  lb.ListenerDefaultActionArray{forward},
			Tags:            tags("https"),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(80),
			Protocol:        pulumi.String("HTTP"),
			DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
				Type: pulumi.String("redirect"),
				Redirect: &lb.ListenerDefaultActionRedirectArgs{
					Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
				},
			}},
			Tags: tags("http"),
		}, parent); err != nil {
			return nil, err
		}
		if _, err := route53.NewRecord(ctx, name+"-alias", &route53.RecordArgs{
			ZoneId: pulumi.String(a.HostedZoneID),
			Name:   pulumi.String(a.DomainName),
			Type:   pulumi.String("A"),
			Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
				Name: alb.DnsName, ZoneId: alb.ZoneId, EvaluateTargetHealth: pulumi.Bool(true),
			}},
		}, parent); err != nil {
			return nil, err
		}
		l.URL = pulumi.Sprintf("https://%s", a.DomainName)
	} else {
		serving, err = lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
			LoadBalancerArn: alb.Arn,
			Port:            pulumi.Int(80),
			Protocol:        pulumi.String("HTTP"),
			DefaultActions:  lb.ListenerDefaultActionArray{forward},
			Tags:            tags("http"),
		}, parent)
		if err != nil {
			return nil, err
		}
		l.URL = pulumi.Sprintf("http://%s", alb.DnsName)
	}
	if a.OriginHeaderName != "" {
		if _, err := lb.NewListenerRule(ctx, name+"-from-origin", &lb.ListenerRuleArgs{
			ListenerArn: serving.Arn,
			Priority:    pulumi.Int(10),
			Actions:     lb.ListenerRuleActionArray{lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}},
			Conditions: lb.ListenerRuleConditionArray{lb.ListenerRuleConditionArgs{
				HttpHeader: &lb.ListenerRuleConditionHttpHeaderArgs{
					HttpHeaderName: pulumi.String(a.OriginHeaderName),
					Values:         pulumi.StringArray{a.OriginHeaderValue},
				},
			}},
			Tags: tags("from-origin"),
		}, parent); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(l, pulumi.Map{
		"dnsName":        l.DNSName,
		"url":            l.URL,
		"targetGroupArn": l.TargetGroupARN,
	}); err != nil {
		return nil, err
	}
	return l, nil
}

// certificate requests an ACM certificate for the domain and validates it with DNS records in its zone. certOpts
// go to the certificate and its validation only (such as a provider in us-east-1 for CloudFront).
func certificate(ctx *pulumi.Context, name, domainName, hostedZoneID string, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption, certOpts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	cert, err := acm.NewCertificate(ctx, name+"-cert", &acm.CertificateArgs{
		DomainName:       pulumi.String(domainName),
		ValidationMethod: pulumi.String("DNS"),
		Tags:             tags("cert"),
	}, append([]pulumi.ResourceOption{parent}, certOpts...)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	opt := cert.DomainValidationOptions.Index(pulumi.Int(0))
	record, err := route53.NewRecord(ctx, name+"-cert-validation", &route53.RecordArgs{
		ZoneId:         pulumi.String(hostedZoneID),
		Name:           opt.ResourceRecordName().Elem(),
		Type:           opt.ResourceRecordType().Elem(),
		Records:        pulumi.StringArray{opt.ResourceRecordValue().Elem()},
		Ttl:            pulumi.Int(60),
		AllowOverwrite: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	validation, err := acm.NewCertificateValidation(ctx, name+"-cert-validated", &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{record.Fqdn},
	}, append([]pulumi.ResourceOption{parent}, certOpts...)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return validation.CertificateArn, nil
}

// accessLogBucket creates a private, SSE-S3 encrypted bucket (the only encryption ALB log delivery supports) that
// only the region's load-balancing service may write to, with expiring objects.
func accessLogBucket(ctx *pulumi.Context, name string, a LoadBalancerArgs, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption) (pulumi.StringOutput, error) {
	bucket, err := privateBucket(ctx, name, "access-logs", "BucketOwnerEnforced", a.AccessLogRetentionDays, tags, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	account, err := elb.GetServiceAccount(ctx, nil, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	policy := bucket.Arn.ApplyT(func(arn string) (string, error) {
		doc, err := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []map[string]any{
				{
					"Sid":       "LoadBalancerLogDelivery",
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": account.Arn},
					"Action":    "s3:PutObject",
					"Resource":  arn + "/alb/AWSLogs/*",
				},
				tlsOnlyStatement("s3:*", arn, arn+"/*"),
			},
		})
		return string(doc), err
	}).(pulumi.StringOutput)
	bp, err := s3.NewBucketPolicy(ctx, name+"-access-logs-policy", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// The load balancer checks that it may write before it accepts the bucket, so hand the name on only once
	// the policy exists.
	return pulumi.All(bucket.Bucket, bp.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput), nil
}

// tagger returns a function that tags a child resource with its Name and the caller's tags.
func tagger(name string, extra map[string]string) func(role string) pulumi.StringMap {
	return func(role string) pulumi.StringMap {
		m := pulumi.StringMap{"Name": pulumi.String(name + "-" + role)}
		for k, v := range extra {
			m[k] = pulumi.String(v)
		}
		return m
	}
}
