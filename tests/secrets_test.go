package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func newSecret(args *components.SecretArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := components.NewSecret(ctx, "jwt", args)
		return err
	}
}

func TestSecretByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newSecret(&components.SecretArgs{Description: "JWT signing keys", Prefix: "k1:"}))
	id := r.one(t, "random:index/randomId:RandomId", "jwt-random")
	if id.num("byteLength") != 32 {
		t.Errorf("want 32 random bytes, got %v", id.get("byteLength"))
	}
	value := r.one(t, "aws:secretsmanager/secretVersion:SecretVersion", "jwt-secret-value").str("secretString")
	if len(r.secrets) == 0 || value != "k1:"+r.secrets[0] {
		t.Errorf("want k1: followed by the base64 random bytes, got %q (secrets %v)", value, r.secrets)
	}
	secret := r.one(t, "aws:secretsmanager/secret:Secret", "jwt-secret")
	if secret.num("recoveryWindowInDays") != 7 || secret.str("description") != "JWT signing keys" {
		t.Errorf("secret: got %v", secret.Inputs)
	}
}

func TestSecretRejects(t *testing.T) {
	tests := []struct {
		name string
		give *components.SecretArgs
		want []string
	}{
		{"no description", nil, []string{"Description: must say what the secret is for"}},
		{"too few bytes", &components.SecretArgs{Description: "x", RandomBytes: 8}, []string{"RandomBytes: must be between 16 and 512, but 8 was given"}},
		{"value and prefix", &components.SecretArgs{Description: "x", Value: pulumi.String("v"), Prefix: "k1:"}, []string{"Value: is given, so Prefix and RandomBytes"}},
		{"bad prefix and window", &components.SecretArgs{Description: "x", Prefix: "k 1", RecoveryWindowDays: 31}, []string{`Prefix: must be up to 32 characters`, "RecoveryWindowDays: must be between 7 and 30, but 31 was given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newSecret(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
}
