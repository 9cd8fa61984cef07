// Command scalestack is the Pulumi program that provisions scalestack on AWS; see README.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/stacks"
)

func main() { pulumi.Run(stacks.Program) }
