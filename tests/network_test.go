package tests

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func TestNetworkByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, func(ctx *pulumi.Context) error {
		_, err := components.NewNetwork(ctx, "net", nil)
		return err
	})

	vpc := r.one(t, "aws:ec2/vpc:Vpc", "net-vpc")
	if diff := cmp.Diff("10.0.0.0/16", vpc.str("cidrBlock")); diff != "" {
		t.Errorf("VPC CIDR (-want +got):\n%s", diff)
	}
	type subnet struct{ Name, CIDR, AZ string }
	var got []subnet
	for _, s := range r.ofType("aws:ec2/subnet:Subnet") {
		got = append(got, subnet{s.Name, s.str("cidrBlock"), s.str("availabilityZone")})
		if s.get("mapPublicIpOnLaunch") == true {
			t.Errorf("%s maps public IPs on launch", s.Name)
		}
	}
	want := []subnet{
		{"net-private-1", "10.0.128.0/20", "us-east-1a"},
		{"net-private-2", "10.0.144.0/20", "us-east-1b"},
		{"net-public-1", "10.0.0.0/20", "us-east-1a"},
		{"net-public-2", "10.0.16.0/20", "us-east-1b"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subnets (-want +got):\n%s", diff)
	}
	if n := len(r.ofType("aws:ec2/natGateway:NatGateway")); n != 1 {
		t.Errorf("NAT gateways: want 1 by default, got %d", n)
	}
	var endpoints []string
	for _, e := range r.ofType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		endpoints = append(endpoints, e.str("serviceName")+" "+e.str("vpcEndpointType"))
		if n := len(e.list("routeTableIds")); n != 3 {
			t.Errorf("%s: want the public and both private route tables, got %d", e.Name, n)
		}
	}
	if diff := cmp.Diff([]string{"com.amazonaws.us-east-1.dynamodb Gateway", "com.amazonaws.us-east-1.s3 Gateway"}, endpoints); diff != "" {
		t.Errorf("gateway endpoints (-want +got):\n%s", diff)
	}
	if n := len(r.ofType("aws:ec2/flowLog:FlowLog")); n != 0 {
		t.Errorf("flow logs are off by default, got %d", n)
	}
	if sg := r.one(t, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "net-default-sg"); sg.get("ingress") != nil || sg.get("egress") != nil {
		t.Errorf("the default security group must have no rules, got ingress %v egress %v", sg.get("ingress"), sg.get("egress"))
	}
}

func TestNetworkPerAZNATAndFlowLogs(t *testing.T) {
	r := mustRun(t, "prod", nil, func(ctx *pulumi.Context) error {
		_, err := components.NewNetwork(ctx, "net", &components.NetworkArgs{
			CIDR: "10.20.0.0/16", AZCount: 3, NATGateways: components.NATPerAZ, FlowLogs: true,
		})
		return err
	})
	nats := r.ofType("aws:ec2/natGateway:NatGateway")
	if len(nats) != 3 {
		t.Fatalf("NAT gateways: want one per AZ (3), got %d", len(nats))
	}
	// Each private route table routes through the NAT gateway of its own zone.
	for i, rt := range []string{"net-private-rt-1", "net-private-rt-2", "net-private-rt-3"} {
		want := nats[i].Name + "-id"
		if got := r.one(t, "aws:ec2/routeTable:RouteTable", rt).str("routes.0.natGatewayId"); got != want {
			t.Errorf("%s routes through %q, want %q", rt, got, want)
		}
	}
	fl := r.one(t, "aws:ec2/flowLog:FlowLog", "net-flow-log")
	if fl.str("trafficType") != "ALL" || fl.str("iamRoleArn") == "" {
		t.Errorf("flow log: want ALL traffic through a role, got %v", fl.Inputs)
	}
	for _, s := range policyStatements(t, r.one(t, "aws:iam/rolePolicy:RolePolicy", "net-flow-logs-policy").str("policy")) {
		for _, res := range asStrings(s["Resource"]) {
			if res == "*" {
				t.Errorf("flow-log role may write anywhere: %v", s)
			}
		}
	}
}

func TestNetworkRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.NetworkArgs
		want []string
	}{
		{"bad CIDR", components.NetworkArgs{CIDR: "10.0.0.0/33"}, []string{`CIDR: must be an IPv4 CIDR block`, `"10.0.0.0/33"`}},
		{"host bits", components.NetworkArgs{CIDR: "10.0.0.1/16"}, []string{"did you mean 10.0.0.0/16"}},
		{"too large", components.NetworkArgs{CIDR: "10.0.0.0/8"}, []string{"must be a /16 to /24 block"}},
		{"one AZ", components.NetworkArgs{AZCount: 1}, []string{"AZCount: must be between 2 and 6, but 1 was given"}},
		{"NAT layout", components.NetworkArgs{NATGateways: "two"}, []string{`NATGateways: must be one of ["single" "per-az"], but "two" was given`}},
		{"all at once", components.NetworkArgs{CIDR: "x", AZCount: 9, NATGateways: "none"}, []string{"CIDR:", "AZCount:", "NATGateways:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, func(ctx *pulumi.Context) error {
				_, err := components.NewNetwork(ctx, "net", &tt.give)
				return err
			})
			checkRejected(t, r, err, tt.want)
		})
	}
}
