package stacks

import (
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// AppPort is the port the app container listens on.
const AppPort = 8080

// Program is the whole scalestack program: it loads and validates the stack's config (registering nothing when
// a value is wrong), composes the components and exports what a user needs.
func Program(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return err
	}
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return err
	}
	tags := map[string]string{"project": "scalestack", "stack": ctx.Stack()}

	network, err := components.NewNetwork(ctx, "net", &components.NetworkArgs{
		CIDR:              cfg.VPCCIDR,
		AZCount:           cfg.AZCount,
		AvailabilityZones: cfg.AvailabilityZones,
		NATGateways:       cfg.NATGateways,
		FlowLogs:          cfg.FlowLogs,
		Tags:              tags,
	})
	if err != nil {
		return err
	}

	web, err := components.NewLoadBalancer(ctx, "web", &components.LoadBalancerArgs{
		VPCID:               network.VPCID,
		VPCCIDR:             network.CIDR,
		SubnetIDs:           network.PublicSubnetIDs,
		AppPort:             AppPort,
		HealthCheckPath:     "/healthz",
		DeregistrationDelay: time.Duration(cfg.DeregistrationDelaySeconds) * time.Second,
		DomainName:          cfg.DomainName,
		HostedZoneID:        cfg.HostedZoneID,
		DeletionProtection:  cfg.ALBDeletionProtection,
		AccessLogs:          cfg.ALBAccessLogs,
		Tags:                tags,
	})
	if err != nil {
		return err
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
		Env: map[string]pulumi.StringInput{
			"AWS_REGION":   pulumi.String(region.Name),
			"HTTP_ADDR":    pulumi.Sprintf(":%d", AppPort),
			"ADMIN_EMAILS": pulumi.String(strings.Join(cfg.AdminEmails, ",")),
		},
		Tags: tags,
	})
	if err != nil {
		return err
	}

	ctx.Export("url", web.URL)
	ctx.Export("albDnsName", web.DNSName)
	ctx.Export("vpcId", network.VPCID)
	ctx.Export("availabilityZones", pulumi.ToStringArray(network.AvailabilityZones))
	ctx.Export("privateSubnetIds", network.PrivateSubnetIDs)
	ctx.Export("apiGroupName", api.GroupName)
	ctx.Export("apiLogGroup", api.LogGroupName)
	return nil
}
