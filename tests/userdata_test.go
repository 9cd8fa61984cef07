package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scalestack/scalestack/stacks"
)

// TestUserDataIsValidShell parses every launch template's boot script with bash -n and checks the systemd unit
// it writes, for the dev and prod stacks: a quoting mistake would otherwise surface only on a booting instance.
func TestUserDataIsValidShell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to check user data: %v", err)
	}
	unit := regexp.MustCompile(`(?s)cat > /etc/systemd/system/scalestack\.service <<'SCALESTACK_UNIT'\n(.*?)\nSCALESTACK_UNIT\n`)
	for _, stack := range []string{"dev", "prod"} {
		r := mustRun(t, stack, stackConfig(t, stack), stacks.Program)
		lts := r.ofType("aws:ec2/launchTemplate:LaunchTemplate")
		if len(lts) == 0 {
			t.Fatalf("%s: no launch templates", stack)
		}
		for _, lt := range lts {
			script := lt.userData(t)
			path := filepath.Join(t.TempDir(), lt.Name+".sh")
			if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("%s %s: bash -n: %v\n%s\n%s", stack, lt.Name, err, out, script)
			}
			if !strings.HasPrefix(script, "#!/bin/bash\n") || !strings.Contains(script, "set -euo pipefail") {
				t.Errorf("%s %s: want a bash script that stops at the first error", stack, lt.Name)
			}
			m := unit.FindStringSubmatch(script)
			if m == nil {
				t.Errorf("%s %s: no systemd unit in the user data", stack, lt.Name)
				continue
			}
			for _, want := range []string{"[Unit]", "[Service]", "[Install]", "ExecStart=/usr/bin/docker run ", "ExecStop=/usr/bin/docker stop --time "} {
				if !strings.Contains(m[1], want) {
					t.Errorf("%s %s: the unit lacks %q:\n%s", stack, lt.Name, want, m[1])
				}
			}
		}
	}
}

// envScript matches the script the user data installs to assemble the container's env file.
var envScript = regexp.MustCompile(`(?s)cat > /usr/local/sbin/scalestack-env <<'SCALESTACK_ENV_SCRIPT'\n(.*?)\nSCALESTACK_ENV_SCRIPT\n`)

// bootEnv runs the user data's env script as an instance would at container start, with stand-ins for the
// metadata service (curl) and Secrets Manager (aws) that answer "secret-of:<ARN>", and returns the env file it
// wrote. With failSecrets the aws stand-in fails, and bootEnv returns the script's error instead.
func bootEnv(t *testing.T, userData string, failSecrets bool) (map[string]string, error) {
	t.Helper()
	m := envScript.FindStringSubmatch(userData)
	if m == nil {
		t.Fatalf("no env script in the user data:\n%s", userData)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	run := filepath.Join(dir, "run")
	stubs := map[string]string{
		"curl": "#!/bin/bash\nfor a in \"$@\"; do case $a in */api/token) echo token; exit 0;; */meta-data/instance-id) echo i-0123456789abcdef0; exit 0;; esac; done\nexit 22\n",
		"aws": "#!/bin/bash\n[ -n \"${FAIL_SECRETS:-}\" ] && { echo 'AccessDeniedException' >&2; exit 254; }\n" +
			"while [ $# -gt 0 ]; do [ \"$1\" = --secret-id ] && { echo \"secret-of:$2\"; exit 0; }; shift; done\nexit 2\n",
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "scalestack-env")
	if err := os.WriteFile(script, []byte(strings.ReplaceAll(m[1], "/run/scalestack", run)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if failSecrets {
		cmd.Env = append(cmd.Env, "FAIL_SECRETS=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		if _, statErr := os.Stat(filepath.Join(run, "app.env")); statErr == nil {
			t.Errorf("the env script failed (%v) but left an env file behind", err)
		}
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(run, "app.env"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(run, "app.env")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("env file mode: want 0600, got %v", fi.Mode().Perm())
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("env file line without '=': %q", line)
		}
		if _, dup := env[k]; dup {
			t.Errorf("env file sets %s twice", k)
		}
		env[k] = v
	}
	return env, nil
}

// TestBootEnv runs the env script of both fleets: the env contract arrives whole, secrets come from Secrets
// Manager by ARN, and a secret that cannot be read stops the start instead of leaving an empty value.
func TestBootEnv(t *testing.T) {
	r := mustRun(t, "prod", stackConfig(t, "prod"), stacks.Program)
	for _, lt := range r.ofType("aws:ec2/launchTemplate:LaunchTemplate") {
		ud := lt.userData(t)
		env, err := bootEnv(t, ud, false)
		if err != nil {
			t.Fatalf("%s: env script failed: %v", lt.Name, err)
		}
		for _, k := range []string{"DATABASE_WRITER_URL", "DATABASE_READER_URLS", "REDIS_URL", "DYNAMODB_SHARD_TABLES", "JOBS_QUEUE_URL", "AWS_REGION"} {
			if env[k] == "" {
				t.Errorf("%s: %s is missing from the env file", lt.Name, k)
			}
		}
		if env["INSTANCE_ID"] != "i-0123456789abcdef0" {
			t.Errorf("%s: INSTANCE_ID = %q, want the instance's ID from the metadata service", lt.Name, env["INSTANCE_ID"])
		}
		for _, k := range []string{"DATABASE_PASSWORD", "REDIS_AUTH_TOKEN"} {
			if !strings.HasPrefix(env[k], "secret-of:arn:") {
				t.Errorf("%s: %s = %q, want it read from Secrets Manager by ARN", lt.Name, k, env[k])
			}
		}
		if _, err := bootEnv(t, ud, true); err == nil {
			t.Errorf("%s: the env script succeeded although Secrets Manager refused", lt.Name)
		}
	}
}
