// Package stacks is the scalestack Pulumi program: it reads the stack's configuration into one typed Config
// (literal defaults per profile, overlaid with the stack's Pulumi config, then validated) and composes the
// components from it. Only this package reads configuration.
package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/scalestack/scalestack/components"
)

// Namespace is the config namespace of every key: the project name.
const Namespace = "scalestack"

// Profiles are the stack profiles with literal defaults.
var Profiles = []string{"dev", "prod"}

// Config is everything a stack can set. Field comments name the config key.
type Config struct {
	Profile string // profile: dev or prod; defaults to the stack's name

	VPCCIDR           string   // vpcCidr
	AZCount           int      // azCount
	AvailabilityZones []string // availabilityZones
	NATGateways       string   // natGateways: single or per-az
	FlowLogs          bool     // flowLogs

	DomainName                 string // domainName
	HostedZoneID               string // hostedZoneId
	ALBDeletionProtection      bool   // albDeletionProtection
	ALBAccessLogs              bool   // albAccessLogs
	DeregistrationDelaySeconds int    // deregistrationDelaySeconds

	AppImage                string   // appImage
	AdminEmails             []string // adminEmails
	InstanceType            string   // instanceType
	APIMinSize              int      // apiMinSize
	APIMaxSize              int      // apiMaxSize
	APIDesiredCapacity      int      // apiDesiredCapacity
	HealthCheckGraceSeconds int      // healthCheckGraceSeconds
	CPUTargetPercent        int      // cpuTargetPercent
	RequestsPerTarget       int      // requestsPerTarget

	CDNPriceClass string // cdnPriceClass: PriceClass_100, PriceClass_200 or PriceClass_All
	CDNLogging    bool   // cdnLogging

	CacheNodeType              string // cacheNodeType
	CacheNodes                 int    // cacheNodes
	CacheSnapshotRetentionDays int    // cacheSnapshotRetentionDays

	DBInstanceClass             string // dbInstanceClass
	DBReplicas                  int    // dbReplicas
	DBStorageGiB                int    // dbStorageGiB
	DBBackupRetentionDays       int    // dbBackupRetentionDays
	DBMultiAZ                   bool   // dbMultiAz
	DBDeletionProtection        bool   // dbDeletionProtection
	DBFinalSnapshot             bool   // dbFinalSnapshot
	DBPerformanceInsights       bool   // dbPerformanceInsights
	DBMonitoringIntervalSeconds int    // dbMonitoringIntervalSeconds

	ShardCount              int  // shardCount
	ShardDeletionProtection bool // shardDeletionProtection

	JobTimeoutSeconds  int // jobTimeoutSeconds
	JobMaxReceiveCount int // jobMaxReceiveCount

	WorkerInstanceType             string // workerInstanceType
	WorkerMinSize                  int    // workerMinSize
	WorkerMaxSize                  int    // workerMaxSize
	WorkerAcceptableLatencySeconds int    // workerAcceptableLatencySeconds
	WorkerAverageJobSeconds        int    // workerAverageJobSeconds
}

// DefaultImage is the app image a stack runs unless appImage says otherwise; the main workflow publishes it.
const DefaultImage = "ghcr.io/scalestack/scalestack:latest"

// Dev is the cheap profile: two AZs, one NAT gateway, small instances, plain HTTP unless a domain is set.
func Dev() Config {
	return Config{
		Profile:                    "dev",
		VPCCIDR:                    "10.10.0.0/16",
		AZCount:                    2,
		NATGateways:                "single",
		FlowLogs:                   false,
		DeregistrationDelaySeconds: 30,
		AppImage:                   DefaultImage,
		InstanceType:               "t4g.small",
		APIMinSize:                 1,
		APIMaxSize:                 3,
		APIDesiredCapacity:         1,
		HealthCheckGraceSeconds:    180,
		CPUTargetPercent:           60,
		RequestsPerTarget:          1000,

		CDNPriceClass: "PriceClass_100",

		CacheNodeType:              "cache.t4g.micro",
		CacheNodes:                 1,
		CacheSnapshotRetentionDays: 1,

		DBInstanceClass:       "db.t4g.micro",
		DBReplicas:            1,
		DBStorageGiB:          20,
		DBBackupRetentionDays: 1,

		ShardCount: 2,

		JobTimeoutSeconds:  60,
		JobMaxReceiveCount: 5,

		WorkerInstanceType:             "t4g.small",
		WorkerMinSize:                  0,
		WorkerMaxSize:                  2,
		WorkerAcceptableLatencySeconds: 300,
		WorkerAverageJobSeconds:        2,
	}
}

// Prod is the highly available profile: three AZs, a NAT gateway per AZ, flow logs, HTTPS only, deletion
// protection and access logs on the load balancer, at least three instances.
func Prod() Config {
	return Config{
		Profile:                    "prod",
		VPCCIDR:                    "10.20.0.0/16",
		AZCount:                    3,
		NATGateways:                "per-az",
		FlowLogs:                   true,
		ALBDeletionProtection:      true,
		ALBAccessLogs:              true,
		DeregistrationDelaySeconds: 30,
		AppImage:                   DefaultImage,
		InstanceType:               "m7g.large",
		APIMinSize:                 3,
		APIMaxSize:                 12,
		APIDesiredCapacity:         3,
		HealthCheckGraceSeconds:    180,
		CPUTargetPercent:           50,
		RequestsPerTarget:          1000,

		CDNPriceClass: "PriceClass_All",
		CDNLogging:    true,

		CacheNodeType:              "cache.m7g.large",
		CacheNodes:                 2,
		CacheSnapshotRetentionDays: 7,

		DBInstanceClass:             "db.m7g.large",
		DBReplicas:                  2,
		DBStorageGiB:                100,
		DBBackupRetentionDays:       7,
		DBMultiAZ:                   true,
		DBDeletionProtection:        true,
		DBFinalSnapshot:             true,
		DBPerformanceInsights:       true,
		DBMonitoringIntervalSeconds: 60,

		ShardCount:              4,
		ShardDeletionProtection: true,

		JobTimeoutSeconds:  60,
		JobMaxReceiveCount: 5,

		WorkerInstanceType:             "m7g.medium",
		WorkerMinSize:                  1,
		WorkerMaxSize:                  10,
		WorkerAcceptableLatencySeconds: 60,
		WorkerAverageJobSeconds:        2,
	}
}

// setting ties a config key to the field it overlays.
type setting struct {
	key   string
	kind  string // the key's type in Pulumi.yaml: string, integer, boolean or array
	apply func(c *Config, raw string) error
}

func intKey(key string, field func(*Config) *int) setting {
	return setting{key, "integer", func(c *Config, raw string) error {
		v, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be an integer, but %q was given", raw)
		}
		*field(c) = v
		return nil
	}}
}

func boolKey(key string, field func(*Config) *bool) setting {
	return setting{key, "boolean", func(c *Config, raw string) error {
		v, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false, but %q was given", raw)
		}
		*field(c) = v
		return nil
	}}
}

func stringKey(key string, field func(*Config) *string) setting {
	return setting{key, "string", func(c *Config, raw string) error { *field(c) = strings.TrimSpace(raw); return nil }}
}

// listKey accepts a YAML/JSON list of strings or a comma-separated string.
func listKey(key string, field func(*Config) *[]string) setting {
	return setting{key, "array", func(c *Config, raw string) error {
		var v []string
		if t := strings.TrimSpace(raw); strings.HasPrefix(t, "[") {
			if err := json.Unmarshal([]byte(t), &v); err != nil {
				return fmt.Errorf("must be a list of strings, but %q was given", raw)
			}
		} else {
			for _, s := range strings.Split(t, ",") {
				if s = strings.TrimSpace(s); s != "" {
					v = append(v, s)
				}
			}
		}
		*field(c) = v
		return nil
	}}
}

// settings lists every key a stack may set, in Pulumi.yaml's order.
var settings = []setting{
	stringKey("vpcCidr", func(c *Config) *string { return &c.VPCCIDR }),
	intKey("azCount", func(c *Config) *int { return &c.AZCount }),
	listKey("availabilityZones", func(c *Config) *[]string { return &c.AvailabilityZones }),
	stringKey("natGateways", func(c *Config) *string { return &c.NATGateways }),
	boolKey("flowLogs", func(c *Config) *bool { return &c.FlowLogs }),
	stringKey("domainName", func(c *Config) *string { return &c.DomainName }),
	stringKey("hostedZoneId", func(c *Config) *string { return &c.HostedZoneID }),
	boolKey("albDeletionProtection", func(c *Config) *bool { return &c.ALBDeletionProtection }),
	boolKey("albAccessLogs", func(c *Config) *bool { return &c.ALBAccessLogs }),
	intKey("deregistrationDelaySeconds", func(c *Config) *int { return &c.DeregistrationDelaySeconds }),
	stringKey("appImage", func(c *Config) *string { return &c.AppImage }),
	listKey("adminEmails", func(c *Config) *[]string { return &c.AdminEmails }),
	stringKey("instanceType", func(c *Config) *string { return &c.InstanceType }),
	intKey("apiMinSize", func(c *Config) *int { return &c.APIMinSize }),
	intKey("apiMaxSize", func(c *Config) *int { return &c.APIMaxSize }),
	intKey("apiDesiredCapacity", func(c *Config) *int { return &c.APIDesiredCapacity }),
	intKey("healthCheckGraceSeconds", func(c *Config) *int { return &c.HealthCheckGraceSeconds }),
	intKey("cpuTargetPercent", func(c *Config) *int { return &c.CPUTargetPercent }),
	intKey("requestsPerTarget", func(c *Config) *int { return &c.RequestsPerTarget }),
	stringKey("cdnPriceClass", func(c *Config) *string { return &c.CDNPriceClass }),
	boolKey("cdnLogging", func(c *Config) *bool { return &c.CDNLogging }),
	stringKey("cacheNodeType", func(c *Config) *string { return &c.CacheNodeType }),
	intKey("cacheNodes", func(c *Config) *int { return &c.CacheNodes }),
	intKey("cacheSnapshotRetentionDays", func(c *Config) *int { return &c.CacheSnapshotRetentionDays }),
	stringKey("dbInstanceClass", func(c *Config) *string { return &c.DBInstanceClass }),
	intKey("dbReplicas", func(c *Config) *int { return &c.DBReplicas }),
	intKey("dbStorageGiB", func(c *Config) *int { return &c.DBStorageGiB }),
	intKey("dbBackupRetentionDays", func(c *Config) *int { return &c.DBBackupRetentionDays }),
	boolKey("dbMultiAz", func(c *Config) *bool { return &c.DBMultiAZ }),
	boolKey("dbDeletionProtection", func(c *Config) *bool { return &c.DBDeletionProtection }),
	boolKey("dbFinalSnapshot", func(c *Config) *bool { return &c.DBFinalSnapshot }),
	boolKey("dbPerformanceInsights", func(c *Config) *bool { return &c.DBPerformanceInsights }),
	intKey("dbMonitoringIntervalSeconds", func(c *Config) *int { return &c.DBMonitoringIntervalSeconds }),
	intKey("shardCount", func(c *Config) *int { return &c.ShardCount }),
	boolKey("shardDeletionProtection", func(c *Config) *bool { return &c.ShardDeletionProtection }),
	intKey("jobTimeoutSeconds", func(c *Config) *int { return &c.JobTimeoutSeconds }),
	intKey("jobMaxReceiveCount", func(c *Config) *int { return &c.JobMaxReceiveCount }),
	stringKey("workerInstanceType", func(c *Config) *string { return &c.WorkerInstanceType }),
	intKey("workerMinSize", func(c *Config) *int { return &c.WorkerMinSize }),
	intKey("workerMaxSize", func(c *Config) *int { return &c.WorkerMaxSize }),
	intKey("workerAcceptableLatencySeconds", func(c *Config) *int { return &c.WorkerAcceptableLatencySeconds }),
	intKey("workerAverageJobSeconds", func(c *Config) *int { return &c.WorkerAverageJobSeconds }),
}

// Keys maps every config key a stack may set (without the namespace) to its type in Pulumi.yaml.
func Keys() map[string]string {
	keys := map[string]string{"profile": "string"}
	for _, s := range settings {
		keys[s.key] = s.kind
	}
	return keys
}

// keyError names a config key in an error.
func keyError(key string, err error) error { return fmt.Errorf("%s:%s: %w", Namespace, key, err) }

// checks collects the problems Validate finds, each naming its key.
type checks []error

func (c *checks) bad(key, format string, args ...any) {
	*c = append(*c, keyError(key, fmt.Errorf(format, args...)))
}

func (c *checks) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		c.bad(key, "must be between %d and %d, but %d was given", lo, hi, v)
	}
}

// Load picks the profile's defaults, overlays the stack's config and validates the result. Its error lists every
// problem found, each naming its key.
func Load(ctx *pulumi.Context) (Config, error) {
	profile := ctx.Stack()
	if raw, err := config.Try(ctx, Namespace+":profile"); err == nil {
		profile = strings.TrimSpace(raw)
	}
	var c Config
	switch profile {
	case "dev":
		c = Dev()
	case "prod":
		c = Prod()
	default:
		return Config{}, keyError("profile", fmt.Errorf(
			"must be one of %q (it defaults to the stack's name), but %q was given; set it with `pulumi config set profile dev` for a stack named otherwise",
			Profiles, profile))
	}
	var errs []error
	for _, s := range settings {
		raw, err := config.Try(ctx, Namespace+":"+s.key)
		if err != nil {
			continue // not set: keep the profile's default
		}
		if err := s.apply(&c, raw); err != nil {
			errs = append(errs, keyError(s.key, err))
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

var (
	cidrPattern   = regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zonePattern   = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	imagePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*[a-zA-Z0-9_.-]$`)
	typePattern   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

// Validate checks every field and reports every problem at once, each naming its key, what is allowed and what
// was given.
func (c Config) Validate() error {
	var p checks
	bad, intRange := p.bad, p.intRange
	if !slices.Contains(Profiles, c.Profile) {
		bad("profile", "must be one of %q, but %q was given", Profiles, c.Profile)
	}
	if !cidrPattern.MatchString(c.VPCCIDR) {
		bad("vpcCidr", "must be an IPv4 CIDR block such as 10.0.0.0/16, but %q was given", c.VPCCIDR)
	}
	intRange("azCount", c.AZCount, 2, 6)
	if n := len(c.AvailabilityZones); n > 0 && (n < 2 || n > 6) {
		bad("availabilityZones", "must list 2 to 6 zones when set, but %q was given", c.AvailabilityZones)
	}
	// availabilityZones, when set, decides how many zones there are; azCount only when it is not.
	const prodWhy = "one AZ may fail and the rest must carry the load"
	switch {
	case c.Profile != "prod":
	case len(c.AvailabilityZones) > 0 && len(c.AvailabilityZones) < 3:
		bad("availabilityZones", "must list at least 3 zones in prod (%s), but %q was given", prodWhy, c.AvailabilityZones)
	case len(c.AvailabilityZones) == 0 && c.AZCount < 3:
		bad("azCount", "must be at least 3 in prod (%s), but %d was given", prodWhy, c.AZCount)
	}
	if c.NATGateways != "single" && c.NATGateways != "per-az" {
		bad("natGateways", "must be one of [\"single\" \"per-az\"], but %q was given", c.NATGateways)
	}
	if c.DomainName != "" && !domainPattern.MatchString(c.DomainName) {
		bad("domainName", "must be a lower-case DNS name such as app.example.com, but %q was given", c.DomainName)
	}
	if c.HostedZoneID != "" && !zonePattern.MatchString(c.HostedZoneID) {
		bad("hostedZoneId", "must be a Route 53 zone ID such as Z0123456789ABCDEFGHIJ, but %q was given", c.HostedZoneID)
	}
	if (c.DomainName == "") != (c.HostedZoneID == "") {
		bad("hostedZoneId", "must be set together with domainName, but domainName=%q and hostedZoneId=%q were given", c.DomainName, c.HostedZoneID)
	}
	if c.Profile == "prod" && c.DomainName == "" {
		bad("domainName", "must be set in prod, which serves HTTPS only, but nothing was given")
	}
	// 0 is refused rather than passed on: the components read a zero duration as "use the default".
	intRange("deregistrationDelaySeconds", c.DeregistrationDelaySeconds, 1, 120)
	if !imagePattern.MatchString(c.AppImage) {
		bad("appImage", "must be a container image reference such as ghcr.io/org/app:1.2.3, but %q was given", c.AppImage)
	}
	for _, e := range c.AdminEmails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			bad("adminEmails", "must be plain email addresses such as ops@example.com, but %q was given", e)
		}
	}
	if !typePattern.MatchString(c.InstanceType) || !components.ARMInstanceType(c.InstanceType) {
		bad("instanceType", "must be an arm64 (Graviton) EC2 instance type such as t4g.small or m7g.large, but %q was given", c.InstanceType)
	}
	minSize := 1
	if c.Profile == "prod" {
		minSize = 2
	}
	intRange("apiMinSize", c.APIMinSize, minSize, 100)
	intRange("apiMaxSize", c.APIMaxSize, max(c.APIMinSize, 1), 500)
	if c.APIMaxSize == c.APIMinSize {
		bad("apiMaxSize", "must be greater than apiMinSize (%d) so the group can scale, but %d was given", c.APIMinSize, c.APIMaxSize)
	}
	intRange("apiDesiredCapacity", c.APIDesiredCapacity, c.APIMinSize, c.APIMaxSize)
	intRange("healthCheckGraceSeconds", c.HealthCheckGraceSeconds, 1, 3600)
	intRange("cpuTargetPercent", c.CPUTargetPercent, 10, 90)
	intRange("requestsPerTarget", c.RequestsPerTarget, 10, 100000)
	c.validateDataTier(&p)
	return errors.Join(p...)
}
