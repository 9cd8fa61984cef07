package components

import (
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SecretArgs configures a Secret.
type SecretArgs struct {
	// Description says what the secret is for and who reads it.
	Description string
	// Value is the secret's value. Default: generated, Prefix followed by the standard base64 encoding of
	// RandomBytes random bytes.
	Value pulumi.StringInput
	// Prefix goes before a generated value, such as "k1:" for a key ID. Default: none.
	Prefix string
	// RandomBytes is how many random bytes a generated value holds, 16 to 512. Default: 32.
	RandomBytes int
	// RecoveryWindowDays is how long a deleted secret can still be restored, 7 to 30. Default: 7.
	RecoveryWindowDays int
	// Tags are added to the secret. Default: none.
	Tags map[string]string
}

// Secret is one Secrets Manager secret holding a plain string. Instances read it at boot through their role
// (FleetArgs.SecretEnv); its value never reaches user data or a plain output.
type Secret struct {
	pulumi.ResourceState

	// ARN identifies the secret; grant secretsmanager:GetSecretValue on it.
	ARN pulumi.StringOutput
}

var secretPrefix = regexp.MustCompile(`^[A-Za-z0-9_.:-]{0,32}$`)

func (a SecretArgs) withDefaults() SecretArgs {
	if a.RandomBytes == 0 {
		a.RandomBytes = 32
	}
	if a.RecoveryWindowDays == 0 {
		a.RecoveryWindowDays = 7
	}
	return a
}

func (a SecretArgs) validate(name string) error {
	p := newProblems("Secret", name)
	if a.Description == "" {
		p.addf("Description", "must say what the secret is for, but nothing was given")
	}
	p.intRange("RandomBytes", a.RandomBytes, 16, 512)
	p.intRange("RecoveryWindowDays", a.RecoveryWindowDays, 7, 30)
	if !secretPrefix.MatchString(a.Prefix) {
		p.addf("Prefix", "must be up to 32 characters from [A-Za-z0-9_.:-], but %q was given", a.Prefix)
	}
	if a.Value != nil && (a.Prefix != "" || a.RandomBytes != 32) {
		p.addf("Value", "is given, so Prefix and RandomBytes (which shape a generated value) must not be")
	}
	return p.err()
}

// NewSecret registers a Secret.
func NewSecret(ctx *pulumi.Context, name string, args *SecretArgs, opts ...pulumi.ResourceOption) (*Secret, error) {
	var a SecretArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	s := &Secret{}
	if err := ctx.RegisterComponentResource(secretType, name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)

	value := a.Value
	if value == nil {
		id, err := random.NewRandomId(ctx, name+"-random", &random.RandomIdArgs{ByteLength: pulumi.Int(a.RandomBytes)}, parent,
			pulumi.AdditionalSecretOutputs([]string{"b64Std", "b64Url", "hex", "dec", "id"}))
		if err != nil {
			return nil, err
		}
		value = pulumi.Sprintf("%s%s", a.Prefix, id.B64Std)
	}
	arn, err := storeSecret(ctx, name, a.Description, value, a.RecoveryWindowDays, tagger(name, a.Tags), parent)
	if err != nil {
		return nil, err
	}
	s.ARN = arn
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"arn": s.ARN}); err != nil {
		return nil, err
	}
	return s, nil
}

// storeSecret keeps value in a new Secrets Manager secret (children name-secret and name-secret-value) and
// returns its ARN. The value is marked secret, so Pulumi encrypts it in the state and never prints it.
func storeSecret(ctx *pulumi.Context, name, description string, value pulumi.StringInput, recoveryDays int,
	tags func(string) pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) (pulumi.StringOutput, error) {
	secret, err := secretsmanager.NewSecret(ctx, name+"-secret", &secretsmanager.SecretArgs{
		Description:          pulumi.String(description),
		RecoveryWindowInDays: pulumi.Int(recoveryDays),
		Tags:                 tags("secret"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	version, err := secretsmanager.NewSecretVersion(ctx, name+"-secret-value", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// Hand the ARN on only once the value is in, so an instance never boots to an empty secret.
	return pulumi.All(secret.Arn, version.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput), nil
}

// generatedPassword generates a password of letters and digits (RDS and ElastiCache refuse some symbols, and
// such a password needs no escaping anywhere), stores it with storeSecret and returns it (marked secret) and the
// secret's ARN.
func generatedPassword(ctx *pulumi.Context, name string, length int, description string,
	tags func(string) pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) (pulumi.StringOutput, pulumi.StringOutput, error) {
	password, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
		Length: pulumi.Int(length), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	arn, err := storeSecret(ctx, name, description, password.Result, 7, tags, parent)
	return password.Result, arn, err
}
