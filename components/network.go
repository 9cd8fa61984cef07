package components

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NAT gateway layouts accepted by NetworkArgs.NATGateways.
const (
	NATSingle = "single" // one NAT gateway in the first AZ; cheap, but an AZ outage cuts private egress
	NATPerAZ  = "per-az" // one NAT gateway per AZ; private subnets keep egress when an AZ fails
)

// NetworkArgs configures a Network.
type NetworkArgs struct {
	// CIDR is the VPC's IPv4 block, a /16 to /24; every subnet gets a block 4 bits smaller. Default: 10.0.0.0/16.
	CIDR string
	// AvailabilityZones names the zones to use. Default: the first AZCount zones that
	// aws.GetAvailabilityZones reports as available.
	AvailabilityZones []string
	// AZCount is how many zones to use when AvailabilityZones is empty, 2 to 6. Default: 2.
	AZCount int
	// NATGateways is NATSingle or NATPerAZ. Default: NATSingle.
	NATGateways string
	// FlowLogs sends VPC flow logs (all traffic) to a CloudWatch log group. Default: off.
	FlowLogs bool
	// FlowLogRetentionDays is how long flow logs are kept. Default: 30.
	FlowLogRetentionDays int
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// Network is a VPC with one public and one private subnet per availability zone, NAT gateways for private egress,
// and gateway endpoints that keep S3 and DynamoDB traffic off the NAT gateways.
type Network struct {
	pulumi.ResourceState

	// VPCID is the VPC's ID.
	VPCID pulumi.StringOutput
	// CIDR is the VPC's IPv4 block.
	CIDR string
	// AvailabilityZones are the zones the subnets are in, in subnet order.
	AvailabilityZones []string
	// PublicSubnetIDs are the public subnets, one per zone (for load balancers and NAT gateways).
	PublicSubnetIDs pulumi.StringArray
	// PrivateSubnetIDs are the private subnets, one per zone (for instances, databases and caches).
	PrivateSubnetIDs pulumi.StringArray
	// PrivateRouteTableIDs are the private subnets' route tables.
	PrivateRouteTableIDs pulumi.StringArray
}

func (a NetworkArgs) withDefaults() NetworkArgs {
	if a.CIDR == "" {
		a.CIDR = "10.0.0.0/16"
	}
	if a.AZCount == 0 {
		a.AZCount = 2
	}
	if len(a.AvailabilityZones) > 0 {
		a.AZCount = len(a.AvailabilityZones)
	}
	if a.NATGateways == "" {
		a.NATGateways = NATSingle
	}
	if a.FlowLogRetentionDays == 0 {
		a.FlowLogRetentionDays = 30
	}
	return a
}

func (a NetworkArgs) validate(name string) error {
	p := newProblems("Network", name)
	prefix, err := netip.ParsePrefix(a.CIDR)
	switch {
	case err != nil || !prefix.Addr().Is4():
		p.addf("CIDR", "must be an IPv4 CIDR block such as 10.0.0.0/16, but %q was given", a.CIDR)
	case prefix.Masked() != prefix:
		p.addf("CIDR", "must have no host bits set (did you mean %s?), but %q was given", prefix.Masked(), a.CIDR)
	default:
		if prefix.Bits() < 16 || prefix.Bits() > 24 {
			p.addf("CIDR", "must be a /16 to /24 block, but %q was given", a.CIDR)
		}
	}
	p.intRange("AZCount", a.AZCount, 2, 6)
	seen := map[string]bool{}
	for _, az := range a.AvailabilityZones {
		if az == "" || seen[az] {
			p.addf("AvailabilityZones", "must be distinct, non-empty zone names, but %q was given", a.AvailabilityZones)
			break
		}
		seen[az] = true
	}
	p.oneOf("NATGateways", a.NATGateways, NATSingle, NATPerAZ)
	p.intRange("FlowLogRetentionDays", a.FlowLogRetentionDays, 1, 3653)
	return p.err()
}

// subnetCIDR returns the netnum-th block that is 4 bits smaller than base.
func subnetCIDR(base netip.Prefix, netnum int) string {
	bits := base.Bits() + 4
	addr := base.Addr().As4()
	v := uint32(addr[0])<<24 | uint32(addr[1])<<16 | uint32(addr[2])<<8 | uint32(addr[3])
	v |= uint32(netnum) << (32 - bits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits).String()
}

// NewNetwork registers a Network. nil args mean all defaults.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	var a NetworkArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}

	n := &Network{CIDR: a.CIDR}
	if err := ctx.RegisterComponentResource(networkType, name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tags := tagger(name, a.Tags)

	azs := a.AvailabilityZones
	if len(azs) == 0 {
		res, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")}, parent)
		if err != nil {
			return nil, fmt.Errorf("network %q: looking up availability zones: %w", name, err)
		}
		if len(res.Names) < a.AZCount {
			return nil, fmt.Errorf("network %q: AZCount: %d zones requested, but the region has only %d available: %q",
				name, a.AZCount, len(res.Names), res.Names)
		}
		azs = res.Names[:a.AZCount]
	}
	n.AvailabilityZones = azs
	region, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("network %q: looking up the region: %w", name, err)
	}

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(a.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags("vpc"),
	}, parent)
	if err != nil {
		return nil, err
	}
	n.VPCID = vpc.ID().ToStringOutput()

	// Take over the VPC's default security group and leave it without rules, so nothing that lands in it by
	// accident can talk to anything.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags("default-sg-unused"),
	}, parent); err != nil {
		return nil, err
	}

	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: tags("igw")}, parent)
	if err != nil {
		return nil, err
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags("public-rt"),
	}, parent)
	if err != nil {
		return nil, err
	}

	base := netip.MustParsePrefix(a.CIDR)
	var natIDs []pulumi.IDOutput
	for i, az := range azs {
		suffix := fmt.Sprintf("%d", i+1)
		pub, err := ec2.NewSubnet(ctx, name+"-public-"+suffix, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(subnetCIDR(base, i)),
			AvailabilityZone: pulumi.String(az),
			Tags:             tags("public-" + az),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-public-rta-"+suffix, &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: publicRT.ID(),
		}, parent); err != nil {
			return nil, err
		}
		n.PublicSubnetIDs = append(n.PublicSubnetIDs, pub.ID().ToStringOutput())

		if a.NATGateways == NATPerAZ || i == 0 {
			eip, err := ec2.NewEip(ctx, name+"-nat-eip-"+suffix, &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags("nat-eip-" + az)}, parent)
			if err != nil {
				return nil, err
			}
			nat, err := ec2.NewNatGateway(ctx, name+"-nat-"+suffix, &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tags("nat-" + az),
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, err
			}
			natIDs = append(natIDs, nat.ID())
		}
	}

	for i, az := range azs {
		suffix := fmt.Sprintf("%d", i+1)
		priv, err := ec2.NewSubnet(ctx, name+"-private-"+suffix, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(subnetCIDR(base, 8+i)),
			AvailabilityZone: pulumi.String(az),
			Tags:             tags("private-" + az),
		}, parent)
		if err != nil {
			return nil, err
		}
		nat := natIDs[0]
		if a.NATGateways == NATPerAZ {
			nat = natIDs[i]
		}
		rt, err := ec2.NewRouteTable(ctx, name+"-private-rt-"+suffix, &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat}},
			Tags:   tags("private-rt-" + az),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-private-rta-"+suffix, &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: rt.ID(),
		}, parent); err != nil {
			return nil, err
		}
		n.PrivateSubnetIDs = append(n.PrivateSubnetIDs, priv.ID().ToStringOutput())
		n.PrivateRouteTableIDs = append(n.PrivateRouteTableIDs, rt.ID().ToStringOutput())
	}

	// Gateway endpoints are free and keep S3 (image layers, static assets, packages) and DynamoDB traffic off the
	// NAT gateways, which bill per GB.
	routeTables := append(pulumi.StringArray{publicRT.ID().ToStringOutput()}, n.PrivateRouteTableIDs...)
	for _, svc := range []string{"s3", "dynamodb"} {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc+"-endpoint", &ec2.VpcEndpointArgs{
			VpcId:           vpc.ID(),
			ServiceName:     pulumi.String(fmt.Sprintf("com.amazonaws.%s.%s", region.Name, svc)),
			VpcEndpointType: pulumi.String("Gateway"),
			RouteTableIds:   routeTables,
			Tags:            tags(svc + "-endpoint"),
		}, parent); err != nil {
			return nil, err
		}
	}

	if a.FlowLogs {
		if err := n.flowLogs(ctx, name, vpc, a, tags, parent); err != nil {
			return nil, err
		}
	}

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VPCID,
		"publicSubnetIds":  n.PublicSubnetIDs,
		"privateSubnetIds": n.PrivateSubnetIDs,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// flowLogs sends the VPC's flow logs to a log group through a role that may write only to that group.
func (n *Network) flowLogs(ctx *pulumi.Context, name string, vpc *ec2.Vpc, a NetworkArgs,
	tags func(string) pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) error {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(a.FlowLogRetentionDays),
		Tags:            tags("flow-logs"),
	}, parent)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("vpc-flow-logs.amazonaws.com")),
		Tags:             tags("flow-logs-role"),
	}, parent)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs-policy", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: policyDocument(PolicyStatement{
			Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resources: pulumi.StringArray{group.Arn, pulumi.Sprintf("%s:*", group.Arn)},
		}),
	}, parent); err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name+"-flow-log", &ec2.FlowLogArgs{
		VpcId:          vpc.ID(),
		TrafficType:    pulumi.String("ALL"),
		LogDestination: group.Arn,
		IamRoleArn:     role.Arn,
		Tags:           tags("flow-log"),
	}, parent)
	return err
}

// assumeRolePolicy is a trust policy that lets one AWS service assume a role.
func assumeRolePolicy(service string) string {
	doc, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": service},
			"Action":    "sts:AssumeRole",
		}},
	})
	return string(doc)
}
