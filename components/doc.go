// Package components holds scalestack's reusable Pulumi ComponentResources, one file per component.
//
// Components never read stack configuration: they take plain Go values (which decide how many resources
// exist) and pulumi Inputs (which carry IDs and ARNs from other resources). Each constructor validates every
// argument before it registers anything and reports all problems at once.
package components

// Type tokens of the components. They are part of every child's URN: changing one replaces the resources
// below it, so they never change (use pulumi.Aliases if a rename is ever unavoidable).
const (
	networkType      = "scalestack:index:Network"
	loadBalancerType = "scalestack:index:LoadBalancer"
	fleetType        = "scalestack:index:Fleet"
	cacheType        = "scalestack:index:Cache"
	cdnType          = "scalestack:index:CDN"
	databaseType     = "scalestack:index:Database"
	shardedTableType = "scalestack:index:ShardedTable"
	queueType        = "scalestack:index:Queue"
	secretType       = "scalestack:index:Secret"
)
