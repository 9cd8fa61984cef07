// Package tests runs the scalestack program and its components under Pulumi mocks and asserts on the inputs of
// every resource they register.
package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// recorded is one registered resource with its inputs as plain Go values (secrets unwrapped, unknowns nil).
type recorded struct {
	Type     string
	Name     string
	Inputs   map[string]any
	Secret   map[string]bool // the top-level inputs that hold a secret value
	Provider string          // the explicit provider's reference (URN::ID), empty for the default provider
}

// recorder is the one mock shared by all tests: it records every resource and answers the provider functions
// the program calls. It is safe for concurrent use (the engine registers resources from several goroutines).
type recorder struct {
	mu        sync.Mutex
	resources []recorded
	calls     []string
	secrets   []string // every generated secret value handed out
	seq       int
	region    string // what getRegion answers; the stack's aws:region, us-east-1 by default
}

// fakeOutputs are the provider-computed properties the program reads from resources of each type.
func fakeOutputs(typ, name string, seq int) map[string]any {
	switch typ {
	case "aws:lb/loadBalancer:LoadBalancer":
		return map[string]any{"dnsName": name + "-123.us-east-1.elb.amazonaws.com", "arnSuffix": "app/" + name + "/0123456789abcdef", "zoneId": "Z35SXDOTRQ7X7K"}
	case "aws:lb/targetGroup:TargetGroup":
		return map[string]any{"arnSuffix": "targetgroup/" + name + "/0123456789abcdef"}
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return map[string]any{"latestVersion": 1}
	case "aws:acm/certificate:Certificate":
		return map[string]any{"domainValidationOptions": []any{map[string]any{
			"domainName": "x", "resourceRecordName": "_x.example.com.", "resourceRecordType": "CNAME", "resourceRecordValue": "_y.acm-validations.aws.",
		}}}
	case "aws:route53/record:Record":
		return map[string]any{"fqdn": name + ".example.com"}
	case "aws:s3/bucketV2:BucketV2":
		return map[string]any{"bucket": name + "-bucket", "bucketRegionalDomainName": name + "-bucket.s3.us-east-1.amazonaws.com", "bucketDomainName": name + "-bucket.s3.amazonaws.com"}
	case "aws:sqs/queue:Queue":
		return map[string]any{"url": "https://sqs.us-east-1.amazonaws.com/123456789012/" + name}
	case "aws:rds/instance:Instance":
		return map[string]any{"identifier": name + "-abc123", "address": name + ".abc.us-east-1.rds.amazonaws.com", "endpoint": name + ".abc.us-east-1.rds.amazonaws.com:5432", "port": 5432}
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		return map[string]any{"primaryEndpointAddress": "master." + name + ".abc.use1.cache.amazonaws.com", "port": 6379}
	case "aws:cloudfront/distribution:Distribution":
		return map[string]any{"domainName": "d111111abcdef8.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2"}
	}
	return nil
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	inputs := plain(resource.NewObjectProperty(args.Inputs)).(map[string]any)
	provider := args.Provider
	if strings.Contains(provider, "::default_") {
		provider = ""
	}
	secret := map[string]bool{}
	for k, v := range args.Inputs {
		if v.ContainsSecrets() {
			secret[string(k)] = true
		}
	}
	r.resources = append(r.resources, recorded{Type: args.TypeToken, Name: args.Name, Inputs: inputs, Secret: secret, Provider: provider})

	state := map[string]any{}
	for k, v := range inputs {
		state[k] = v
	}
	state["arn"] = fmt.Sprintf("arn:aws:mock:us-east-1:123456789012:%s/%s", args.TypeToken, args.Name)
	if _, ok := state["name"]; !ok {
		state["name"] = args.Name + "-" + strconv.Itoa(r.seq)
	}
	for k, v := range fakeOutputs(args.TypeToken, args.Name, r.seq) {
		state[k] = v
	}
	if args.TypeToken == "random:index/randomPassword:RandomPassword" || args.TypeToken == "random:index/randomString:RandomString" {
		// A value unlike anything else in the program, so that a leak is unambiguous.
		secret := fmt.Sprintf("MockSecret%06d%s", r.seq, strings.ReplaceAll(args.Name, "-", ""))
		r.secrets = append(r.secrets, secret)
		state["result"] = secret
	}
	if args.TypeToken == "random:index/randomId:RandomId" {
		raw := []byte(fmt.Sprintf("MockSecret%06d%s", r.seq, strings.ReplaceAll(args.Name, "-", "")))
		std, url := base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)
		r.secrets = append(r.secrets, std, url)
		state["b64Std"], state["b64Url"], state["hex"] = std, url, fmt.Sprintf("%x", raw)
	}
	return args.Name + "-id", resource.NewPropertyMapFromMap(state), nil
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args.Token)
	r.mu.Unlock()
	var out map[string]any
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		out = map[string]any{"names": []any{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}, "zoneIds": []any{"use1-az1", "use1-az2", "use1-az4", "use1-az6"}, "id": "us-east-1"}
	case "aws:index/getRegion:getRegion":
		out = map[string]any{"name": r.region, "id": r.region, "description": "mock region", "endpoint": "ec2." + r.region + ".amazonaws.com"}
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out = map[string]any{"accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/ci", "userId": "AIDAMOCK", "id": "123456789012"}
	case "aws:index/getPartition:getPartition":
		out = map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
	case "aws:ssm/getParameter:getParameter":
		out = map[string]any{"name": args.Args["name"].StringValue(), "value": "ami-0a1b2c3d4e5f67890", "type": "String", "arn": "arn:aws:ssm:us-east-1::parameter/x", "id": "x", "version": 1, "insecureValue": "ami-0a1b2c3d4e5f67890"}
	case "aws:elb/getServiceAccount:getServiceAccount":
		out = map[string]any{"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		out = map[string]any{"id": "pl-3b927c52", "name": "com.amazonaws.global.cloudfront.origin-facing", "arn": "arn:aws:ec2:us-east-1:aws:prefix-list/pl-3b927c52"}
	default:
		return nil, fmt.Errorf("mock: no answer for provider function %s", args.Token)
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// plain turns a property value into plain Go values: secrets unwrapped, unknowns nil.
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsComputed():
		return nil
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil
		}
		return plain(v.OutputValue().Element)
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = plain(e)
		}
		return m
	case v.IsArray():
		a := []any{}
		for _, e := range v.ArrayValue() {
			a = append(a, plain(e))
		}
		return a
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	}
	return v.V
}

// run runs program as the given stack with the given config (keys without the "scalestack:" namespace; keys
// of other namespaces, such as aws:region, as they are).
func run(t *testing.T, stack string, config map[string]string, program pulumi.RunFunc) (*recorder, error) {
	t.Helper()
	r := &recorder{region: "us-east-1"}
	if region := config["aws:region"]; region != "" {
		r.region = region
	}
	err := pulumi.RunErr(program, pulumi.WithMocks("scalestack", stack, r), func(info *pulumi.RunInfo) {
		info.Config = map[string]string{}
		for k, v := range config {
			if !strings.Contains(k, ":") {
				k = "scalestack:" + k
			}
			info.Config[k] = v
		}
	})
	return r, err
}

// mustRun is run for programs that must succeed.
func mustRun(t *testing.T, stack string, config map[string]string, program pulumi.RunFunc) *recorder {
	t.Helper()
	r, err := run(t, stack, config, program)
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return r
}

// stackConfig reads the config of ../Pulumi.<stack>.yaml as the CLI would pass it to the program.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../Pulumi." + stack + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
	}
	out := map[string]string{}
	for k, v := range file.Config {
		key, ok := strings.CutPrefix(k, "scalestack:")
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case []any, map[string]any:
			b, _ := json.Marshal(v)
			out[key] = string(b)
		default:
			out[key] = fmt.Sprint(v)
		}
	}
	return out
}

// ofType returns the recorded resources of one type, sorted by name.
func (r *recorder) ofType(typ string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, res := range r.resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// one returns the resource of a type with a name, failing the test when there is not exactly one.
func (r *recorder) one(t *testing.T, typ, name string) recorded {
	t.Helper()
	var found []recorded
	for _, res := range r.ofType(typ) {
		if res.Name == name {
			found = append(found, res)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s named %q, found %d (have %v)", typ, name, len(found), r.names(typ))
	}
	return found[0]
}

func (r *recorder) names(typ string) []string {
	var n []string
	for _, res := range r.ofType(typ) {
		n = append(n, res.Name)
	}
	return n
}

// get walks a dotted path ("healthCheck.path", "ingress.0.fromPort") through plain values.
func get(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func (res recorded) get(path string) any { return get(res.Inputs, path) }

func (res recorded) str(path string) string {
	s, _ := res.get(path).(string)
	return s
}

func (res recorded) num(path string) float64 {
	n, _ := res.get(path).(float64)
	return n
}

func (res recorded) list(path string) []any {
	l, _ := res.get(path).([]any)
	return l
}

// userData decodes a launch template's user data.
func (res recorded) userData(t *testing.T) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(res.str("userData"))
	if err != nil {
		t.Fatalf("%s: user data is not base64: %v", res.Name, err)
	}
	return string(b)
}

// policyStatements parses an IAM policy document input.
func policyStatements(t *testing.T, doc string) []map[string]any {
	t.Helper()
	var p struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, doc)
	}
	return p.Statement
}

// strings returns a statement field (string or list) as a list.
func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// checkRejected asserts that a component failed with every wanted message and registered nothing.
func checkRejected(t *testing.T, r *recorder, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if len(r.resources) != 0 {
		t.Errorf("registered %d resources before failing", len(r.resources))
	}
}
