package config

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var secret = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 32))

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func minimal() map[string]string {
	return map[string]string{
		"DATABASE_WRITER_URL": "postgres://app@db:5432/app",
		"REDIS_URL":           "rediss://cache:6379/0",
		"JWT_SIGNING_KEYS":    "k2:" + secret + ", k1:" + secret,
		"INSTANCE_ID":         "i-1",
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(minimal()))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DrainDelay != 10*time.Second || c.MaxInFlight != 512 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if got := []string{c.JWTSigningKeys[0].ID, c.JWTSigningKeys[1].ID}; !cmp.Equal(got, []string{"k2", "k1"}) {
		t.Errorf("key order = %v, want [k2 k1] (the first one signs)", got)
	}
	if c.DatabaseReaderURLs != nil {
		t.Errorf("readers = %v, want none", c.DatabaseReaderURLs)
	}
}

func TestLoadOverrides(t *testing.T) {
	m := minimal()
	m["DATABASE_READER_URLS"] = " postgres://r1/app ,,postgres://r2/app"
	m["ADMIN_EMAILS"] = "Boss@Example.com"
	m["DRAIN_DELAY"] = "2s"
	m["MAX_IN_FLIGHT"] = "7"
	c, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"postgres://r1/app", "postgres://r2/app"}
	if diff := cmp.Diff(want, c.DatabaseReaderURLs); diff != "" {
		t.Errorf("readers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"boss@example.com"}, c.AdminEmails); diff != "" {
		t.Errorf("admins (-want +got):\n%s", diff)
	}
	if c.DrainDelay != 2*time.Second || c.MaxInFlight != 7 {
		t.Errorf("got drain %s, in-flight %d", c.DrainDelay, c.MaxInFlight)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		give map[string]string
		want []string // substrings of the error, all must appear
	}{
		{"missing required", map[string]string{}, []string{"DATABASE_WRITER_URL: required", "REDIS_URL: required", "JWT_SIGNING_KEYS: required"}},
		{"drain delay too long", with(minimal(), "DRAIN_DELAY", "30s"), []string{"DRAIN_DELAY", "30s was provided"}},
		{"bad duration", with(minimal(), "REDIS_TIMEOUT", "fast"), []string{"REDIS_TIMEOUT", `"fast"`}},
		{"short secret", with(minimal(), "JWT_SIGNING_KEYS", "a:c2hvcnQ="), []string{"at least 32 bytes"}},
		{"duplicate kid", with(minimal(), "JWT_SIGNING_KEYS", "a:"+secret+",a:"+secret), []string{"listed twice"}},
		{"no kid", with(minimal(), "JWT_SIGNING_KEYS", secret), []string{"without a kid"}},
		{"jitter", with(minimal(), "CACHE_TTL_JITTER", "1.5"), []string{"CACHE_TTL_JITTER", "1.5 was provided"}},
		{"in-flight", with(minimal(), "MAX_IN_FLIGHT", "0"), []string{"MAX_IN_FLIGHT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.give))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	m := minimal()
	m["DATABASE_PASSWORD"] = "hunter2-db"
	m["REDIS_AUTH_TOKEN"] = "hunter2-redis"
	c, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	out := buf.String()
	for _, s := range []string{"hunter2", secret} {
		if strings.Contains(out, s) {
			t.Errorf("log output leaks %q: %s", s, out)
		}
	}
	if !strings.Contains(out, `"jwt_signing_key_ids":["k2","k1"]`) {
		t.Errorf("log output lacks key ids: %s", out)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

func TestLoadMigrateNeedsOnlyTheDatabase(t *testing.T) {
	c, err := LoadMigrate(env(map[string]string{"DATABASE_WRITER_URL": "postgres://app@db/app", "DATABASE_PASSWORD": "pw"}))
	if err != nil || c.DatabasePassword != "pw" {
		t.Errorf("LoadMigrate = %+v, %v", c, err)
	}
	if _, err := LoadMigrate(env(map[string]string{})); err == nil || !strings.Contains(err.Error(), "DATABASE_WRITER_URL") {
		t.Errorf("LoadMigrate without a writer URL: %v", err)
	}
}
