package tests

import (
	"strings"
	"testing"

	"github.com/scalestack/scalestack/stacks"
)

// TestConfigRejects gives each typed key a wrong value: the program must fail before registering anything, with
// an error that names the key and the value given.
func TestConfigRejects(t *testing.T) {
	tests := []struct {
		key, give string
		want      string
	}{
		{"profile", "staging", `scalestack:profile: must be one of ["dev" "prod"]`},
		{"vpcCidr", "10.0.0/16", `scalestack:vpcCidr: must be an IPv4 CIDR block such as 10.0.0.0/16, but "10.0.0/16" was given`},
		{"azCount", "one", `scalestack:azCount: must be an integer, but "one" was given`},
		{"azCount", "7", `scalestack:azCount: must be between 2 and 6, but 7 was given`},
		{"availabilityZones", `["us-east-1a"]`, `scalestack:availabilityZones: must list 2 to 6 zones`},
		{"availabilityZones", `[1, 2`, `scalestack:availabilityZones: must be a list of strings`},
		{"natGateways", "double", `scalestack:natGateways: must be one of ["single" "per-az"], but "double" was given`},
		{"flowLogs", "yes please", `scalestack:flowLogs: must be true or false, but "yes please" was given`},
		{"domainName", "App.Example.com", `scalestack:domainName: must be a lower-case DNS name`},
		{"hostedZoneId", "zone-1", `scalestack:hostedZoneId: must be a Route 53 zone ID`},
		{"albDeletionProtection", "2", `scalestack:albDeletionProtection: must be true or false, but "2" was given`},
		{"albAccessLogs", "on", `scalestack:albAccessLogs: must be true or false, but "on" was given`},
		{"deregistrationDelaySeconds", "300", `scalestack:deregistrationDelaySeconds: must be between 1 and 120, but 300 was given`},
		{"deregistrationDelaySeconds", "0", `scalestack:deregistrationDelaySeconds: must be between 1 and 120, but 0 was given`},
		{"appImage", "my app", `scalestack:appImage: must be a container image reference`},
		{"adminEmails", "not-an-email", `scalestack:adminEmails: must be plain email addresses such as ops@example.com, but "not-an-email" was given`},
		{"instanceType", "m5.large", `scalestack:instanceType: must be an arm64 (Graviton) EC2 instance type such as t4g.small or m7g.large, but "m5.large" was given`},
		{"apiMinSize", "0", `scalestack:apiMinSize: must be between 1 and 100, but 0 was given`},
		{"apiMaxSize", "1", `scalestack:apiMaxSize: must be greater than apiMinSize (1) so the group can scale, but 1 was given`},
		{"apiDesiredCapacity", "9", `scalestack:apiDesiredCapacity: must be between 1 and 3, but 9 was given`},
		{"healthCheckGraceSeconds", "-5", `scalestack:healthCheckGraceSeconds: must be between 1 and 3600, but -5 was given`},
		{"healthCheckGraceSeconds", "0", `scalestack:healthCheckGraceSeconds: must be between 1 and 3600, but 0 was given`},
		{"cpuTargetPercent", "95", `scalestack:cpuTargetPercent: must be between 10 and 90, but 95 was given`},
		{"requestsPerTarget", "1.5", `scalestack:requestsPerTarget: must be an integer, but "1.5" was given`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.give, func(t *testing.T) {
			r, err := run(t, "dev", map[string]string{tt.key: tt.give}, stacks.Program)
			if err == nil {
				t.Fatalf("want an error for %s=%q, got none", tt.key, tt.give)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not say %q:\n%v", tt.want, err)
			}
			if len(r.resources) != 0 {
				t.Errorf("registered %d resources before failing", len(r.resources))
			}
		})
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := run(t, "prod", map[string]string{"azCount": "2", "apiMinSize": "1", "natGateways": "none", "flowLogs": "maybe"}, stacks.Program)
	if err == nil {
		t.Fatal("want an error, got none")
	}
	// Parse errors come first; once they are fixed, range errors follow. Here flowLogs cannot be parsed.
	if !strings.Contains(err.Error(), "scalestack:flowLogs") {
		t.Errorf("want the parse error for flowLogs, got %v", err)
	}
	_, err = run(t, "prod", map[string]string{"azCount": "2", "apiMinSize": "1", "natGateways": "none", "domainName": "", "hostedZoneId": ""}, stacks.Program)
	for _, want := range []string{
		"scalestack:azCount: must be at least 3 in prod",
		"scalestack:apiMinSize: must be between 2 and 100, but 1 was given",
		`scalestack:natGateways: must be one of ["single" "per-az"], but "none" was given`,
		"scalestack:domainName: must be set in prod",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestConfigProfileForOtherStackNames(t *testing.T) {
	if _, err := run(t, "staging", nil, stacks.Program); err == nil || !strings.Contains(err.Error(), `scalestack:profile: must be one of ["dev" "prod"]`) || !strings.Contains(err.Error(), `"staging"`) {
		t.Errorf("an unknown stack name without a profile must fail clearly, got %v", err)
	}
	r := mustRun(t, "staging", map[string]string{"profile": "dev", "azCount": "3", "apiMaxSize": "5"}, stacks.Program)
	asg := r.one(t, "aws:autoscaling/group:Group", "api-asg")
	if asg.num("maxSize") != 5 || len(asg.list("vpcZoneIdentifiers")) != 3 {
		t.Errorf("overlay: want max 5 over 3 AZs, got %v", asg.Inputs)
	}
}

// TestConfigProdNeedsThreeZones: prod runs in at least three zones however they are given; availabilityZones,
// which overrides azCount, may not bring it down to two.
func TestConfigProdNeedsThreeZones(t *testing.T) {
	tests := []struct {
		give map[string]string
		want string
	}{
		{map[string]string{"azCount": "2"}, "scalestack:azCount: must be at least 3 in prod"},
		{map[string]string{"availabilityZones": `["us-east-1a","us-east-1b"]`}, `scalestack:availabilityZones: must list at least 3 zones in prod (one AZ may fail and the rest must carry the load), but ["us-east-1a" "us-east-1b"] was given`},
	}
	for _, tt := range tests {
		config := stackConfig(t, "prod")
		for k, v := range tt.give {
			config[k] = v
		}
		r, err := run(t, "prod", config, stacks.Program)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: want an error containing %q, got %v", tt.give, tt.want, err)
		}
		if len(r.resources) != 0 {
			t.Errorf("%v: registered %d resources before failing", tt.give, len(r.resources))
		}
	}
	r := mustRun(t, "prod", func() map[string]string {
		c := stackConfig(t, "prod")
		c["availabilityZones"] = `["us-east-1a","us-east-1b","us-east-1d"]`
		return c
	}(), stacks.Program)
	if n := len(r.one(t, "aws:autoscaling/group:Group", "api-asg").list("vpcZoneIdentifiers")); n != 3 {
		t.Errorf("three listed zones: want the API group over 3 subnets, got %d", n)
	}
}
