package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scalestack/scalestack/components"
	"github.com/scalestack/scalestack/stacks"
)

// TestStacks asserts the compute tier's properties on the dev and prod stacks as users deploy them: with the
// config of Pulumi.<stack>.yaml.
func TestStacks(t *testing.T) {
	tests := []struct {
		stack                string
		wantAZs              int
		wantNATs             int
		wantHTTPS            bool
		wantDeleteProtection bool
		wantFlowLogs         bool
		wantMinSize          float64
	}{
		{stack: "dev", wantAZs: 2, wantNATs: 1, wantMinSize: 1},
		{stack: "prod", wantAZs: 3, wantNATs: 3, wantHTTPS: true, wantDeleteProtection: true, wantFlowLogs: true, wantMinSize: 3},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			r := mustRun(t, tt.stack, stackConfig(t, tt.stack), stacks.Program)

			// Subnets: a public and a private one in each AZ.
			azs := map[string]map[string]bool{}
			for _, s := range r.ofType("aws:ec2/subnet:Subnet") {
				kind := "public"
				if strings.HasPrefix(s.Name, "net-private-") {
					kind = "private"
				}
				if azs[kind] == nil {
					azs[kind] = map[string]bool{}
				}
				azs[kind][s.str("availabilityZone")] = true
			}
			if len(azs["public"]) != tt.wantAZs || len(azs["private"]) != tt.wantAZs {
				t.Errorf("want public and private subnets in %d AZs, got %v", tt.wantAZs, azs)
			}
			if n := len(r.ofType("aws:ec2/natGateway:NatGateway")); n != tt.wantNATs {
				t.Errorf("NAT gateways: want %d, got %d", tt.wantNATs, n)
			}
			if n := len(r.ofType("aws:ec2/flowLog:FlowLog")); (n > 0) != tt.wantFlowLogs {
				t.Errorf("flow logs: want %v, got %d", tt.wantFlowLogs, n)
			}

			alb := r.one(t, "aws:lb/loadBalancer:LoadBalancer", "web-alb")
			if alb.get("internal") != false || alb.get("dropInvalidHeaderFields") != true || len(alb.list("subnets")) != tt.wantAZs {
				t.Errorf("ALB: want internet-facing across %d AZs, dropping invalid headers; got %v", tt.wantAZs, alb.Inputs)
			}
			if mode := alb.str("desyncMitigationMode"); mode != "defensive" && mode != "strictest" {
				t.Errorf("desync mitigation: want defensive or strictest, got %q", mode)
			}
			if alb.get("enableDeletionProtection") != tt.wantDeleteProtection || (alb.get("accessLogs.enabled") == true) != tt.wantDeleteProtection {
				t.Errorf("ALB deletion protection / access logs: want %v, got %v / %v", tt.wantDeleteProtection, alb.get("enableDeletionProtection"), alb.get("accessLogs"))
			}
			checkListeners(t, r, tt.wantHTTPS)

			tg := r.one(t, "aws:lb/targetGroup:TargetGroup", "web-tg")
			if tg.str("healthCheck.path") != "/healthz" || tg.num("deregistrationDelay") > 120 || tg.get("stickiness.enabled") != false {
				t.Errorf("target group: want /healthz, deregistration <= 120 s, no stickiness; got %v", tg.Inputs)
			}

			asg := r.one(t, "aws:autoscaling/group:Group", "api-asg")
			if asg.str("launchTemplate.id") == "" || asg.str("healthCheckType") != "ELB" || asg.num("healthCheckGracePeriod") <= 0 {
				t.Errorf("ASG: want a launch template and ELB health checks with grace, got %v", asg.Inputs)
			}
			if len(asg.list("vpcZoneIdentifiers")) != tt.wantAZs || asg.num("minSize") != tt.wantMinSize || asg.num("maxSize") <= asg.num("minSize") {
				t.Errorf("ASG: want %d subnets, min %v and max > min; got %v", tt.wantAZs, tt.wantMinSize, asg.Inputs)
			}
			if asg.str("instanceRefresh.strategy") != "Rolling" {
				t.Errorf("ASG: want rolling instance refresh, got %v", asg.get("instanceRefresh"))
			}
			tracking := 0
			for _, p := range r.ofType("aws:autoscaling/policy:Policy") {
				if p.str("policyType") == "TargetTrackingScaling" && strings.HasPrefix(p.Name, "api-") {
					tracking++
				}
			}
			if tracking < 2 {
				t.Errorf("want CPU and request-count target tracking on the API group, got %d policies", tracking)
			}

			for _, lt := range r.ofType("aws:ec2/launchTemplate:LaunchTemplate") {
				if lt.str("metadataOptions.httpTokens") != "required" || lt.str("networkInterfaces.0.associatePublicIpAddress") != "false" ||
					lt.str("blockDeviceMappings.0.ebs.encrypted") != "true" || lt.str("iamInstanceProfile.arn") == "" || lt.str("userData") == "" {
					t.Errorf("%s: want IMDSv2, no public IP, encrypted EBS, an instance profile and user data; got %v", lt.Name, lt.Inputs)
				}
			}
			checkSecurityGroups(t, r)
			checkRolePolicies(t, r)
		})
	}
}

// checkListeners: with HTTPS, 443 serves with a TLS 1.3 policy and 80 only redirects; without, 80 forwards.
func checkListeners(t *testing.T, r *recorder, wantHTTPS bool) {
	t.Helper()
	for _, l := range r.ofType("aws:lb/listener:Listener") {
		switch {
		case l.num("port") == 443:
			if l.str("protocol") != "HTTPS" || l.str("sslPolicy") != components.TLSPolicy || l.str("certificateArn") == "" {
				t.Errorf("443 listener: got %v", l.Inputs)
			}
		case l.num("port") == 80 && wantHTTPS:
			if l.str("defaultActions.0.type") != "redirect" || l.str("defaultActions.0.redirect.protocol") != "HTTPS" {
				t.Errorf("80 must only redirect to HTTPS, got %v", l.get("defaultActions"))
			}
		}
	}
	has443 := false
	for _, l := range r.ofType("aws:lb/listener:Listener") {
		has443 = has443 || l.num("port") == 443
	}
	if has443 != wantHTTPS {
		t.Errorf("HTTPS listener: want %v, got %v", wantHTTPS, has443)
	}
}

// checkSecurityGroups: only the ALB's group is open to the internet, on 80/443 only; no rule anywhere admits port
// 22; the API instances admit only the ALB's group.
func checkSecurityGroups(t *testing.T, r *recorder) {
	t.Helper()
	albGroup := "web-sg-id"
	for _, sg := range r.ofType("aws:ec2/securityGroup:SecurityGroup") {
		for _, rule := range sg.list("ingress") {
			from, to := get(rule, "fromPort").(float64), get(rule, "toPort").(float64)
			proto := fmt.Sprint(get(rule, "protocol"))
			if proto == "-1" || proto == "all" || (from <= 22 && 22 <= to) {
				t.Errorf("%s admits port 22 or all traffic: %v", sg.Name, rule)
			}
			open := false
			for _, c := range append(asStrings(get(rule, "cidrBlocks")), asStrings(get(rule, "ipv6CidrBlocks"))...) {
				open = open || c == "0.0.0.0/0" || c == "::/0"
			}
			if open && (sg.Name != "web-sg" || !(from == to && (from == 80 || from == 443))) {
				t.Errorf("%s is open to the internet beyond the ALB's 80/443: %v", sg.Name, rule)
			}
		}
	}
	for _, rule := range r.one(t, "aws:ec2/securityGroup:SecurityGroup", "api-sg").list("ingress") {
		if !cmpStrings(asStrings(get(rule, "securityGroups")), []string{albGroup}) || get(rule, "cidrBlocks") != nil {
			t.Errorf("API instances must admit only the ALB's group, got %v", rule)
		}
	}
	for _, typ := range []string{"aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"} {
		for _, rule := range r.ofType(typ) {
			if rule.str("type") == "egress" {
				continue
			}
			from, to := rule.num("fromPort"), rule.num("toPort")
			if rule.str("ipProtocol") == "-1" || rule.str("protocol") == "-1" || (from <= 22 && 22 <= to) {
				t.Errorf("%s admits port 22 or all traffic: %v", rule.Name, rule.Inputs)
			}
			for _, c := range append(asStrings(rule.get("cidrBlocks")), rule.str("cidrIpv4"), rule.str("cidrIpv6")) {
				if c == "0.0.0.0/0" || c == "::/0" {
					t.Errorf("%s opens a group to the internet: %v", rule.Name, rule.Inputs)
				}
			}
		}
	}
}

func cmpStrings(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
