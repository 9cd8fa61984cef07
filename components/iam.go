package components

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyStatement is one Allow statement of an IAM policy. Actions are named one by one (no wildcards) and
// Resources are specific ARNs, usually outputs of other resources.
type PolicyStatement struct {
	// Sid names the statement. Default: none.
	Sid string
	// Actions are the allowed actions, such as "sqs:SendMessage".
	Actions []string
	// Resources are the ARNs the actions are allowed on.
	Resources pulumi.StringArray
}

// validateStatements reports statements that would grant more than they name.
func validateStatements(p *problems, field string, stmts []PolicyStatement) {
	for i, s := range stmts {
		if len(s.Actions) == 0 {
			p.addf(fmt.Sprintf("%s[%d].Actions", field, i), "must name at least one action, but none was given")
		}
		for _, a := range s.Actions {
			service, action, ok := strings.Cut(a, ":")
			if !ok || service == "" || action == "" || strings.Contains(a, "*") {
				p.addf(fmt.Sprintf("%s[%d].Actions", field, i),
					"must be single actions written service:Action without wildcards, but %q was given", a)
			}
		}
		if len(s.Resources) == 0 {
			p.addf(fmt.Sprintf("%s[%d].Resources", field, i), "must name at least one resource ARN, but none was given")
		}
	}
}

// policyDocument renders statements as an IAM policy document once their resource ARNs are known.
func policyDocument(stmts ...PolicyStatement) pulumi.StringOutput {
	var all []any
	for _, s := range stmts {
		all = append(all, s.Resources.ToStringArrayOutput())
	}
	return pulumi.All(all...).ApplyT(func(resolved []any) (string, error) {
		var out []map[string]any
		for i, s := range stmts {
			st := map[string]any{"Effect": "Allow", "Action": s.Actions, "Resource": resolved[i].([]string)}
			if s.Sid != "" {
				st["Sid"] = s.Sid
			}
			out = append(out, st)
		}
		doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
		return string(doc), err
	}).(pulumi.StringOutput)
}

// tlsOnlyStatement is a resource-policy statement that refuses every request to resources made without TLS.
func tlsOnlyStatement(action string, resources ...string) map[string]any {
	return map[string]any{
		"Sid":       "TLSOnly",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    action,
		"Resource":  resources,
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
