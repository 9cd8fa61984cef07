package tests

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

// newDatabase runs a database with the given args in a two-AZ network, admitting an "api" group.
func newDatabase(args components.DatabaseArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if args.VPCID == nil {
			args.VPCID = pulumi.String("vpc-1")
		}
		if args.SubnetIDs == nil {
			args.SubnetIDs = pulumi.StringArray{pulumi.String("subnet-a"), pulumi.String("subnet-b")}
		}
		db, err := components.NewDatabase(ctx, "db", &args)
		if err != nil {
			return err
		}
		ctx.Export("writerUrl", db.WriterURL)
		return db.AdmitFrom(ctx, "api", pulumi.String("sg-api"))
	}
}

func TestDatabaseByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newDatabase(components.DatabaseArgs{
		Replicas: 1, AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
	}))
	primary := r.one(t, "aws:rds/instance:Instance", "db-primary")
	for path, want := range map[string]any{
		"engine":                "postgres",
		"engineVersion":         "16",
		"instanceClass":         "db.t4g.micro",
		"storageType":           "gp3",
		"storageEncrypted":      true,
		"publiclyAccessible":    false,
		"backupRetentionPeriod": float64(1),
		"multiAz":               false,
		"deletionProtection":    false,
		"skipFinalSnapshot":     true,
		"availabilityZone":      "us-east-1a",
		"dbName":                "scalestack",
		"username":              "scalestack",
	} {
		if diff := cmp.Diff(want, primary.get(path)); diff != "" {
			t.Errorf("primary %s (-want +got):\n%s", path, diff)
		}
	}
	if primary.str("dbSubnetGroupName") == "" || primary.str("parameterGroupName") == "" || primary.str("password") == "" {
		t.Errorf("primary: want a subnet group, a parameter group and a password, got %v", primary.Inputs)
	}
	if !cmp.Equal(asStrings(primary.get("vpcSecurityGroupIds")), []string{"db-sg-id"}) {
		t.Errorf("primary: want only the database's group, got %v", primary.get("vpcSecurityGroupIds"))
	}
	replica := r.one(t, "aws:rds/instance:Instance", "db-replica-1")
	if replica.str("replicateSourceDb") != "db-primary-abc123" || replica.get("storageEncrypted") != true || replica.get("publiclyAccessible") != false ||
		replica.str("availabilityZone") != "us-east-1b" || replica.get("password") != nil {
		t.Errorf("replica: want an encrypted, private replica of the primary in the other AZ, got %v", replica.Inputs)
	}
	params := r.one(t, "aws:rds/parameterGroup:ParameterGroup", "db-params")
	if params.str("family") != "postgres16" || params.str("parameters.0.name") != "rds.force_ssl" || params.str("parameters.0.value") != "1" {
		t.Errorf("parameter group: want postgres16 with rds.force_ssl=1, got %v", params.Inputs)
	}

	// The group admits nothing inline, and 5432 only from the admitted client.
	sg := r.one(t, "aws:ec2/securityGroup:SecurityGroup", "db-sg")
	if len(sg.list("ingress")) != 0 || len(sg.list("egress")) != 0 {
		t.Errorf("database group: want no inline rules, got %v", sg.Inputs)
	}
	rule := r.one(t, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "db-from-api")
	for path, want := range map[string]any{
		"securityGroupId": "db-sg-id", "referencedSecurityGroupId": "sg-api", "fromPort": float64(5432), "toPort": float64(5432), "ipProtocol": "tcp",
	} {
		if diff := cmp.Diff(want, rule.get(path)); diff != "" {
			t.Errorf("ingress rule %s (-want +got):\n%s", path, diff)
		}
	}

	// The password is generated, stored in Secrets Manager, and given to RDS, nowhere else.
	if len(r.secrets) != 1 || primary.str("password") != r.secrets[0] || !primary.Secret["password"] {
		t.Fatalf("want the generated password as the master password, marked secret; got secrets %v (secret %v)", r.secrets, primary.Secret["password"])
	}
	version := r.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "db-password-secret-value")
	if version.str("secretString") != r.secrets[0] {
		t.Errorf("the password secret must hold the generated password")
	}
	if n := len(r.ofType("aws:rds/instance:Instance")); n != 2 {
		t.Errorf("want a primary and 1 replica, got %d instances", n)
	}
}

func TestDatabaseProductionSettings(t *testing.T) {
	r := mustRun(t, "prod", nil, newDatabase(components.DatabaseArgs{
		Replicas: 2, AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}, InstanceClass: "db.m7g.large",
		StorageGiB: 100, BackupRetentionDays: 7, MultiAZ: true, DeletionProtection: true, FinalSnapshot: true,
		PerformanceInsights: true, MonitoringInterval: time.Minute,
	}))
	primary := r.one(t, "aws:rds/instance:Instance", "db-primary")
	for path, want := range map[string]any{
		"multiAz": true, "deletionProtection": true, "skipFinalSnapshot": false, "backupRetentionPeriod": float64(7),
		"performanceInsightsEnabled": true, "monitoringInterval": float64(60), "allocatedStorage": float64(100),
		"maxAllocatedStorage": float64(200), "monitoringRoleArn": "arn:aws:mock:us-east-1:123456789012:aws:iam/role:Role/db-monitoring",
	} {
		if diff := cmp.Diff(want, primary.get(path)); diff != "" {
			t.Errorf("primary %s (-want +got):\n%s", path, diff)
		}
	}
	if primary.str("finalSnapshotIdentifier") == "" || primary.get("availabilityZone") != nil {
		t.Errorf("primary: want a final snapshot name and no fixed AZ (Multi-AZ), got %v", primary.Inputs)
	}
	zones := map[string]bool{}
	for _, name := range []string{"db-replica-1", "db-replica-2"} {
		rep := r.one(t, "aws:rds/instance:Instance", name)
		zones[rep.str("availabilityZone")] = true
		if rep.get("deletionProtection") != true || rep.get("performanceInsightsEnabled") != true {
			t.Errorf("%s: want deletion protection and Performance Insights, got %v", name, rep.Inputs)
		}
	}
	if len(zones) != 2 {
		t.Errorf("replicas: want two different AZs, got %v", zones)
	}
}

func TestDatabaseRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.DatabaseArgs
		want []string
	}{
		{"one subnet", components.DatabaseArgs{SubnetIDs: pulumi.StringArray{pulumi.String("subnet-a")}}, []string{"SubnetIDs: must name private subnets in at least 2 availability zones, but 1 were given"}},
		{"too many replicas", components.DatabaseArgs{Replicas: 6}, []string{"Replicas: must be between 0 and 5, but 6 was given"}},
		{"negative replicas and tiny disk", components.DatabaseArgs{Replicas: -1, StorageGiB: 10}, []string{"Replicas:", "StorageGiB: must be between 20 and 65536, but 10 was given"}},
		{"storage threshold without headroom", components.DatabaseArgs{StorageGiB: 100, MaxStorageGiB: 105}, []string{"MaxStorageGiB: must be between 110 and 65536, but 105 was given"}},
		{"no backups", components.DatabaseArgs{BackupRetentionDays: -1}, []string{"BackupRetentionDays: must be between 1 and 35, but -1 was given"}},
		{"bad names", components.DatabaseArgs{Username: "postgres", DatabaseName: "My-DB"}, []string{`Username: must be a lower-case identifier`, `"postgres"`, `DatabaseName:`, `"My-DB"`}},
		{"bad class and interval", components.DatabaseArgs{InstanceClass: "m7g.large", MonitoringInterval: 2 * time.Second}, []string{`InstanceClass: must be an RDS instance class`, "MonitoringInterval: must be 0 (off)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newDatabase(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
