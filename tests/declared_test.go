package tests

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/scalestack/scalestack/stacks"
)

// TestConfigKeysDeclared: every key the program reads is declared in Pulumi.yaml with its type and a description
// (and nothing else is declared), and the README's config reference lists every key.
func TestConfigKeysDeclared(t *testing.T) {
	data, err := os.ReadFile("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Name   string
		Config map[string]struct {
			Type        string
			Description string
			Default     any
		}
	}
	if err := yaml.Unmarshal(data, &project); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	if project.Name != stacks.Namespace {
		t.Errorf("project name: want %q, got %q", stacks.Namespace, project.Name)
	}
	declared := map[string]string{}
	for k, v := range project.Config {
		declared[k] = v.Type
		if strings.TrimSpace(v.Description) == "" {
			t.Errorf("Pulumi.yaml: %s has no description", k)
		}
		if v.Default != nil {
			t.Errorf("Pulumi.yaml: %s has a default; defaults live in stacks/config.go only", k)
		}
	}
	if diff := cmp.Diff(stacks.Keys(), declared); diff != "" {
		t.Errorf("keys read by stacks (-) versus declared in Pulumi.yaml (+):\n%s", diff)
	}

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-zA-Z]+)` \\| (string|integer|boolean|list) \\|").FindAllStringSubmatch(string(readme), -1) {
		kind := m[2]
		if kind == "list" {
			kind = "array"
		}
		documented[m[1]] = kind
	}
	if diff := cmp.Diff(stacks.Keys(), documented); diff != "" {
		t.Errorf("keys read by stacks (-) versus documented in README.md's config reference (+):\n%s", diff)
	}
}
