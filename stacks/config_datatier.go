package stacks

import (
	"regexp"
	"slices"

	"github.com/scalestack/scalestack/components"
)

// MaxJobTimeoutSeconds bounds jobTimeoutSeconds: a worker's container gets the job timeout plus 15 s to drain,
// and a container may get at most 15 minutes.
const MaxJobTimeoutSeconds = 840

var (
	cachePattern = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	dbPattern    = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	priceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}
)

// validateDataTier adds to p the problems of the CDN, cache, database, shard, queue and worker keys; prod
// demands the highly available settings.
func (c Config) validateDataTier(p *checks) {
	bad, intRange := p.bad, p.intRange
	prod := c.Profile == "prod"
	atLeastInProd := func(key string, v, min int, why string) {
		if prod && v < min {
			bad(key, "must be at least %d in prod (%s), but %d was given", min, why, v)
		}
	}
	onInProd := func(key string, v bool, why string) {
		if prod && !v {
			bad(key, "must be true in prod (%s), but false was given", why)
		}
	}

	if !slices.Contains(priceClasses, c.CDNPriceClass) {
		bad("cdnPriceClass", "must be one of %q, but %q was given", priceClasses, c.CDNPriceClass)
	}

	if !cachePattern.MatchString(c.CacheNodeType) {
		bad("cacheNodeType", "must be an ElastiCache node type such as cache.t4g.micro, but %q was given", c.CacheNodeType)
	}
	intRange("cacheNodes", c.CacheNodes, 1, 6)
	atLeastInProd("cacheNodes", c.CacheNodes, 2, "a replica takes over when the primary fails")
	intRange("cacheSnapshotRetentionDays", c.CacheSnapshotRetentionDays, 1, 35)

	if !dbPattern.MatchString(c.DBInstanceClass) {
		bad("dbInstanceClass", "must be an RDS instance class such as db.t4g.micro, but %q was given", c.DBInstanceClass)
	}
	intRange("dbReplicas", c.DBReplicas, 0, 5)
	atLeastInProd("dbReplicas", c.DBReplicas, 1, "reads go to replicas")
	intRange("dbStorageGiB", c.DBStorageGiB, 20, 32768)
	intRange("dbBackupRetentionDays", c.DBBackupRetentionDays, 1, 35)
	atLeastInProd("dbBackupRetentionDays", c.DBBackupRetentionDays, 7, "a week of point-in-time recovery")
	onInProd("dbMultiAz", c.DBMultiAZ, "a standby takes over when the primary's AZ fails")
	onInProd("dbDeletionProtection", c.DBDeletionProtection, "the database holds the system of record")
	onInProd("dbFinalSnapshot", c.DBFinalSnapshot, "a deleted database leaves a snapshot")
	if !slices.Contains([]int{0, 1, 5, 10, 15, 30, 60}, c.DBMonitoringIntervalSeconds) {
		bad("dbMonitoringIntervalSeconds", "must be one of [0 1 5 10 15 30 60] (0: off), but %d was given", c.DBMonitoringIntervalSeconds)
	}

	intRange("shardCount", c.ShardCount, 2, components.MaxShards)
	atLeastInProd("shardCount", c.ShardCount, 4, "room to spread hot keys")
	onInProd("shardDeletionProtection", c.ShardDeletionProtection, "a deleted shard loses its data")

	intRange("jobTimeoutSeconds", c.JobTimeoutSeconds, 1, MaxJobTimeoutSeconds)
	intRange("jobMaxReceiveCount", c.JobMaxReceiveCount, 1, 1000)

	if !typePattern.MatchString(c.WorkerInstanceType) || !components.ARMInstanceType(c.WorkerInstanceType) {
		bad("workerInstanceType", "must be an arm64 (Graviton) EC2 instance type such as t4g.small or m7g.medium, but %q was given", c.WorkerInstanceType)
	}
	intRange("workerMinSize", c.WorkerMinSize, 0, 100)
	atLeastInProd("workerMinSize", c.WorkerMinSize, 1, "jobs start without waiting for an instance to boot")
	intRange("workerMaxSize", c.WorkerMaxSize, max(c.WorkerMinSize, 1), 500)
	intRange("workerAverageJobSeconds", c.WorkerAverageJobSeconds, 1, MaxJobTimeoutSeconds)
	intRange("workerAcceptableLatencySeconds", c.WorkerAcceptableLatencySeconds, max(c.WorkerAverageJobSeconds, 1), 86400)
}

// BacklogPerWorker is the queue backlog each worker instance may face: the acceptable latency divided by the
// average job time.
func (c Config) BacklogPerWorker() int {
	return c.WorkerAcceptableLatencySeconds / max(c.WorkerAverageJobSeconds, 1)
}
