package components

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PostgresPort is the port of every Database instance.
const PostgresPort = 5432

// DatabaseArgs configures a Database.
type DatabaseArgs struct {
	// VPCID is the VPC of the database.
	VPCID pulumi.StringInput
	// SubnetIDs are private subnets in at least two availability zones.
	SubnetIDs pulumi.StringArray
	// AvailabilityZones are the zones of SubnetIDs; replica i goes to zone (i+1) mod len, away from a
	// single-AZ primary in the first. Default: RDS places the replicas.
	AvailabilityZones []string
	// InstanceClass is the class of the primary and the replicas. Default: db.t4g.micro.
	InstanceClass string
	// Replicas is how many read replicas follow the primary, 0 to 5. Default: none.
	Replicas int
	// StorageGiB is the encrypted gp3 volume's initial size, 20 to 65536. Default: 20.
	StorageGiB int
	// MaxStorageGiB lets RDS grow the volume up to this size, at least 10% more than StorageGiB (RDS refuses a
	// smaller threshold) and at most 65536. Default: twice StorageGiB.
	MaxStorageGiB int
	// DatabaseName and Username name the app's database and the master user. Default: scalestack.
	DatabaseName, Username string
	// BackupRetentionDays is how long automated backups are kept, 1 to 35. Default: 1.
	BackupRetentionDays int
	// MultiAZ keeps a synchronous standby of the primary in another zone. Default: off.
	MultiAZ bool
	// DeletionProtection keeps the instances from being deleted. Default: off.
	DeletionProtection bool
	// FinalSnapshot takes a snapshot of the primary when it is deleted. Default: off.
	FinalSnapshot bool
	// PerformanceInsights turns on Performance Insights (7 days, free tier). Default: off.
	PerformanceInsights bool
	// MonitoringInterval is the enhanced-monitoring granularity: 1s, 5s, 10s, 15s, 30s or 60s. Default: off.
	MonitoringInterval time.Duration
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// Database is an RDS PostgreSQL 16 primary with read replicas, in private subnets, reachable only on 5432 from
// the groups admitted with AdmitFrom, TLS forced, with a generated master password kept in Secrets Manager.
type Database struct {
	pulumi.ResourceState

	// WriterAddress is the primary's host name; WriterURL is a postgres:// URL for it without the password.
	WriterAddress pulumi.StringOutput
	WriterURL     pulumi.StringOutput
	// ReaderAddresses and ReaderURLs describe the replicas, in replica order.
	ReaderAddresses pulumi.StringArray
	ReaderURLs      pulumi.StringArray
	// PasswordSecretARN is the Secrets Manager secret holding the master password (a plain string).
	PasswordSecretARN pulumi.StringOutput
	// SecurityGroupID is the instances' group.
	SecurityGroupID pulumi.StringOutput

	name string
}

var (
	sqlName         = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	monitorInterval = map[time.Duration]bool{0: true, time.Second: true, 5 * time.Second: true, 10 * time.Second: true,
		15 * time.Second: true, 30 * time.Second: true, 60 * time.Second: true}
)

func (a DatabaseArgs) withDefaults() DatabaseArgs {
	if a.InstanceClass == "" {
		a.InstanceClass = "db.t4g.micro"
	}
	if a.StorageGiB == 0 {
		a.StorageGiB = 20
	}
	if a.MaxStorageGiB == 0 {
		a.MaxStorageGiB = 2 * a.StorageGiB
	}
	if a.DatabaseName == "" {
		a.DatabaseName = "scalestack"
	}
	if a.Username == "" {
		a.Username = "scalestack"
	}
	if a.BackupRetentionDays == 0 {
		a.BackupRetentionDays = 1
	}
	return a
}

func (a DatabaseArgs) validate(name string) error {
	p := newProblems("Database", name)
	if a.VPCID == nil {
		p.addf("VPCID", "is required")
	}
	if len(a.SubnetIDs) < 2 {
		p.addf("SubnetIDs", "must name private subnets in at least 2 availability zones, but %d were given", len(a.SubnetIDs))
	}
	if !strings.HasPrefix(a.InstanceClass, "db.") {
		p.addf("InstanceClass", "must be an RDS instance class such as db.t4g.micro, but %q was given", a.InstanceClass)
	}
	p.intRange("Replicas", a.Replicas, 0, 5)
	p.intRange("StorageGiB", a.StorageGiB, 20, 65536)
	p.intRange("MaxStorageGiB", a.MaxStorageGiB, (a.StorageGiB*11+9)/10, 65536) // RDS wants 10% headroom
	p.intRange("BackupRetentionDays", a.BackupRetentionDays, 1, 35)
	for _, f := range []struct{ field, v string }{{"DatabaseName", a.DatabaseName}, {"Username", a.Username}} {
		if !sqlName.MatchString(f.v) || f.v == "postgres" || f.v == "rdsadmin" {
			p.addf(f.field, "must be a lower-case identifier matching %s other than postgres and rdsadmin, but %q was given", sqlName, f.v)
		}
	}
	if !monitorInterval[a.MonitoringInterval] {
		p.addf("MonitoringInterval", "must be 0 (off), 1s, 5s, 10s, 15s, 30s or 1m0s, but %s was given", a.MonitoringInterval)
	}
	return p.err()
}

// NewDatabase registers a Database.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	var a DatabaseArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	d := &Database{name: name, ReaderAddresses: pulumi.StringArray{}, ReaderURLs: pulumi.StringArray{}}
	if err := ctx.RegisterComponentResource(databaseType, name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	tags := tagger(name, a.Tags)

	sg, err := clientOnlyGroup(ctx, name, "PostgreSQL: 5432 from the admitted app groups only", a.VPCID, tags, parent)
	if err != nil {
		return nil, err
	}
	d.SecurityGroupID = sg.ID().ToStringOutput()
	subnets, err := rds.NewSubnetGroup(ctx, name+"-subnets", &rds.SubnetGroupArgs{
		Description: pulumi.String("private subnets of " + name),
		SubnetIds:   a.SubnetIDs,
		Tags:        tags("subnets"),
	}, parent)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewParameterGroup(ctx, name+"-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String("postgres16"),
		Description: pulumi.String("scalestack PostgreSQL 16: TLS required"),
		Parameters: rds.ParameterGroupParameterArray{
			rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1")},
		},
		Tags: tags("params"),
	}, parent)
	if err != nil {
		return nil, err
	}
	password, passwordARN, err := generatedPassword(ctx, name+"-password", 40,
		"PostgreSQL master password of "+name+" (DATABASE_PASSWORD)", tags, parent)
	if err != nil {
		return nil, err
	}
	d.PasswordSecretARN = passwordARN
	var monitoringRole pulumi.StringPtrInput
	if a.MonitoringInterval > 0 {
		monitoringRole, err = d.monitoringRole(ctx, name, tags, parent)
		if err != nil {
			return nil, err
		}
	}

	// common holds what the primary and the replicas share.
	common := func(args *rds.InstanceArgs, role string) *rds.InstanceArgs {
		args.InstanceClass = pulumi.String(a.InstanceClass)
		args.StorageType = pulumi.String("gp3")
		args.StorageEncrypted = pulumi.Bool(true)
		args.MaxAllocatedStorage = pulumi.Int(a.MaxStorageGiB)
		args.ParameterGroupName = params.Name
		args.VpcSecurityGroupIds = pulumi.StringArray{sg.ID()}
		args.PubliclyAccessible = pulumi.Bool(false)
		args.Port = pulumi.Int(PostgresPort)
		args.AutoMinorVersionUpgrade = pulumi.Bool(true)
		args.CaCertIdentifier = pulumi.String("rds-ca-rsa2048-g1")
		args.DeletionProtection = pulumi.Bool(a.DeletionProtection)
		args.PerformanceInsightsEnabled = pulumi.Bool(a.PerformanceInsights)
		if a.PerformanceInsights {
			args.PerformanceInsightsRetentionPeriod = pulumi.Int(7)
		}
		args.MonitoringInterval = pulumi.Int(int(a.MonitoringInterval / time.Second))
		args.MonitoringRoleArn = monitoringRole
		args.EnabledCloudwatchLogsExports = pulumi.StringArray{pulumi.String("postgresql"), pulumi.String("upgrade")}
		args.CopyTagsToSnapshot = pulumi.Bool(true)
		args.Tags = tags(role)
		return args
	}
	primaryArgs := common(&rds.InstanceArgs{
		Engine:                pulumi.String("postgres"),
		EngineVersion:         pulumi.String("16"),
		AllocatedStorage:      pulumi.Int(a.StorageGiB),
		DbName:                pulumi.String(a.DatabaseName),
		Username:              pulumi.String(a.Username),
		Password:              password,
		DbSubnetGroupName:     subnets.Name,
		MultiAz:               pulumi.Bool(a.MultiAZ),
		BackupRetentionPeriod: pulumi.Int(a.BackupRetentionDays),
		BackupWindow:          pulumi.String("03:00-04:00"),
		MaintenanceWindow:     pulumi.String("sun:04:30-sun:05:30"),
		SkipFinalSnapshot:     pulumi.Bool(!a.FinalSnapshot),
	}, "primary")
	if a.FinalSnapshot {
		primaryArgs.FinalSnapshotIdentifier = pulumi.String(snapshotID(ctx.Project(), ctx.Stack(), name, "final"))
	}
	if !a.MultiAZ && len(a.AvailabilityZones) > 0 {
		primaryArgs.AvailabilityZone = pulumi.String(a.AvailabilityZones[0])
	}
	primary, err := rds.NewInstance(ctx, name+"-primary", primaryArgs, parent)
	if err != nil {
		return nil, err
	}
	d.WriterAddress = primary.Address
	d.WriterURL = d.url(primary.Address, a)

	for i := 1; i <= a.Replicas; i++ {
		role := fmt.Sprintf("replica-%d", i)
		replicaArgs := common(&rds.InstanceArgs{
			ReplicateSourceDb: primary.Identifier,
			SkipFinalSnapshot: pulumi.Bool(true),
		}, role)
		if n := len(a.AvailabilityZones); n > 0 {
			replicaArgs.AvailabilityZone = pulumi.String(a.AvailabilityZones[i%n])
		}
		replica, err := rds.NewInstance(ctx, name+"-"+role, replicaArgs, parent)
		if err != nil {
			return nil, err
		}
		d.ReaderAddresses = append(d.ReaderAddresses, replica.Address)
		d.ReaderURLs = append(d.ReaderURLs, d.url(replica.Address, a))
	}

	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"writerAddress":   d.WriterAddress,
		"readerAddresses": d.ReaderAddresses,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// url is the libpq URL of one instance; the password comes separately (DATABASE_PASSWORD).
func (d *Database) url(address pulumi.StringOutput, a DatabaseArgs) pulumi.StringOutput {
	return pulumi.Sprintf("postgres://%s@%s:%d/%s?sslmode=require", a.Username, address, PostgresPort, a.DatabaseName)
}

// AdmitFrom lets one client group (an app fleet's) reach the database on 5432. client names the rule
// (name-from-client).
func (d *Database) AdmitFrom(ctx *pulumi.Context, client string, securityGroupID pulumi.StringInput) error {
	return admitFrom(ctx, d, d.name, d.SecurityGroupID, PostgresPort, client, securityGroupID)
}

// admitFrom registers one ingress rule on a data store's group: port, from one client group only.
func admitFrom(ctx *pulumi.Context, parent pulumi.Resource, name string, groupID pulumi.StringOutput, port int,
	client string, clientGroupID pulumi.StringInput) error {
	if !sqlName.MatchString(strings.ReplaceAll(client, "-", "_")) || clientGroupID == nil {
		return fmt.Errorf("%s: AdmitFrom: client must be a lower-case name with a security group ID, but %q was given", name, client)
	}
	_, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-from-"+client, &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           groupID,
		Description:               pulumi.Sprintf("%d from %s", port, client),
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(port),
		ToPort:                    pulumi.Int(port),
		ReferencedSecurityGroupId: clientGroupID,
		Tags:                      pulumi.StringMap{"Name": pulumi.String(name + "-from-" + client)},
	}, pulumi.Parent(parent))
	return err
}

// clientOnlyGroup is a data store's security group: no inline rules (clients are admitted one by one with
// admitFrom rules) and no egress, since a data store starts no connection of its own.
func clientOnlyGroup(ctx *pulumi.Context, name, description string, vpcID pulumi.StringInput,
	tags func(string) pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) (*ec2.SecurityGroup, error) {
	return ec2.NewSecurityGroup(ctx, name+"-sg", &ec2.SecurityGroupArgs{
		VpcId:       vpcID,
		Description: pulumi.String(description),
		Tags:        tags("sg"),
	}, parent)
}

// monitoringRole is the role RDS enhanced monitoring publishes OS metrics with.
func (d *Database) monitoringRole(ctx *pulumi.Context, name string, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption) (pulumi.StringPtrInput, error) {
	role, err := iam.NewRole(ctx, name+"-monitoring", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("monitoring.rds.amazonaws.com")),
		Tags:             tags("monitoring"),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-monitoring-policy", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	}, parent); err != nil {
		return nil, err
	}
	return role.Arn, nil
}

// snapshotID builds a valid RDS snapshot identifier (letters, digits and single hyphens, starting with a
// letter) from its parts.
func snapshotID(parts ...string) string {
	id := strings.Trim(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(strings.Join(parts, "-"), "-"), "-")
	if id == "" || id[0] < 'A' || (id[0] > 'Z' && id[0] < 'a') || id[0] > 'z' {
		id = "s-" + id
	}
	if len(id) > 255 {
		id = id[:255]
	}
	return strings.TrimRight(id, "-")
}
