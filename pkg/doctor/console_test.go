package doctor_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
)

func TestIsConsoleProject(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  bool
		err   string
	}{
		{"dependency", map[string]string{"package.json": `{"dependencies": {"@ks-console/shared": "^4.1.3"}}`}, true, ""},
		{"dev dependency", map[string]string{"package.json": `{"devDependencies": {"@ks-console/create-extension": "4.1.3"}}`}, true, ""},
		{"ks-project layout", map[string]string{"package.json": `{"name": "p"}`, "extensions/entry.ts": "", "configs/config.yaml": ""}, true, ""},
		{"other node project", map[string]string{"package.json": `{"dependencies": {"react": "18"}}`, "extensions/x": ""}, false, ""},
		{"extension", map[string]string{"extension.yaml": "name: x\n"}, false, ""},
		{"broken package.json", map[string]string{"package.json": `{"dependencies": `}, false, "package.json is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fixture.WriteStrings(t, dir, tt.files)
			got, err := doctor.IsConsoleProject(dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("IsConsoleProject = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	// A package (a file) is no console project, and no error.
	file := filepath.Join(t.TempDir(), "x.tgz")
	fixture.WriteStrings(t, filepath.Dir(file), map[string]string{"x.tgz": "x"})
	if got, err := doctor.IsConsoleProject(file); got || err != nil {
		t.Errorf("file: %v, %v", got, err)
	}
}

// fakeRunner answers "NAME --version" from a table; a missing name is not
// in PATH. The checks run concurrently.
type fakeRunner struct {
	versions map[string]string
	mu       sync.Mutex
	dirs     []string
}

func (f *fakeRunner) Output(_ context.Context, dir, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.dirs = append(f.dirs, dir)
	f.mu.Unlock()
	if len(args) != 1 || args[0] != "--version" {
		return nil, errors.New("unexpected arguments")
	}
	v, ok := f.versions[name]
	if !ok {
		return nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	return []byte(v), nil
}

func TestConsoleChecks(t *testing.T) {
	good := map[string]string{"node": "v20.11.1\n", "yarn": "1.22.22\n"}
	npmrc := map[string]string{".npmrc": "registry=https://registry.npmjs.org\n@ks-console:registry=https://registry.npm.kubesphere.com.cn/\n"}
	tests := []struct {
		name     string
		versions map[string]string
		project  map[string]string
		home     map[string]string
		// want maps check IDs to "status: part of the message", and
		// "fix" to part of a fix.
		want map[string]string
	}{
		{"ready", good, npmrc, nil, map[string]string{
			doctor.IDNode:            "ok: Node.js v20.11.1 (16 or later needed)",
			doctor.IDYarn:            "ok: Yarn 1.22.22",
			doctor.IDConsoleRegistry: "ok: @ks-console/* come from https://registry.npm.kubesphere.com.cn (",
		}},
		{"old node", map[string]string{"node": "v14.21.3", "yarn": "1.22.19"}, npmrc, nil, map[string]string{
			doctor.IDNode: "fail: Node.js v14.21.3 is older than the console tooling needs (16 or later)",
			"fix":         "install Node.js 16 or later",
		}},
		{"nothing installed", map[string]string{}, npmrc, nil, map[string]string{
			doctor.IDNode: "fail: node is not in PATH",
			doctor.IDYarn: "fail: yarn is not in PATH",
			"fix":         "npm install --global yarn",
		}},
		{"yarn berry", map[string]string{"node": "v22.1.0", "yarn": "4.1.1"}, npmrc, nil, map[string]string{
			doctor.IDYarn: "fail: Yarn 4.1.1 here is not Yarn 1 (classic)",
			"fix":         "yarn set version classic",
		}},
		{"unreadable version", map[string]string{"node": "v20.1.0", "yarn": "command not found: corepack"}, npmrc, nil, map[string]string{
			doctor.IDYarn: `warn: yarn --version printed "command not found: corepack", not a version`,
		}},
		{"no registry", good, map[string]string{".npmrc": "registry=https://registry.npmjs.org\n"}, nil, map[string]string{
			doctor.IDConsoleRegistry: "fail: no .npmrc or .yarnrc sets the @ks-console scope's registry",
			"fix":                    "add the line @ks-console:registry=https://registry.npm.kubesphere.com.cn to ",
		}},
		{"user's yarnrc", good, nil, map[string]string{".yarnrc": "# yarn lockfile v1\n\"@ks-console:registry\" \"https://registry.npm.kubesphere.com.cn\"\n"}, map[string]string{
			doctor.IDConsoleRegistry: "ok: @ks-console/* come from https://registry.npm.kubesphere.com.cn (",
		}},
		{"another registry", good, map[string]string{".yarnrc": "@ks-console:registry https://npm.example.com\n"}, nil, map[string]string{
			doctor.IDConsoleRegistry: "warn: ",
			"fix":                    "unless that registry mirrors KubeSphere's",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, home := t.TempDir(), t.TempDir()
			fixture.WriteStrings(t, dir, tt.project)
			fixture.WriteStrings(t, home, tt.home)
			runner := &fakeRunner{versions: tt.versions}
			checks := doctor.Run(context.Background(), doctor.Options{
				Kubeconfig: filepath.Join(dir, "missing-kubeconfig"),
				Console:    &doctor.Console{Dir: dir, Home: home, Runner: runner},
			})
			byID := map[string]doctor.Check{}
			var fixes []string
			for _, c := range checks {
				byID[c.ID] = c
				fixes = append(fixes, c.Fix)
			}
			if last := checks[len(checks)-3:]; last[0].ID != doctor.IDNode || last[1].ID != doctor.IDYarn || last[2].ID != doctor.IDConsoleRegistry {
				t.Errorf("the console checks are not last: %v", last)
			}
			for id, want := range tt.want {
				if id == "fix" {
					if !strings.Contains(strings.Join(fixes, "\n"), want) {
						t.Errorf("no fix says %q: %q", want, fixes)
					}
					continue
				}
				c := byID[id]
				if got := string(c.Status) + ": " + c.Message; !strings.HasPrefix(got, want) {
					t.Errorf("%s = %q, want %q...", id, got, want)
				}
				if c.Status != doctor.OK && c.Fix == "" {
					t.Errorf("%s has no fix", id)
				}
			}
			for _, d := range runner.dirs {
				if d != dir {
					t.Errorf("ran in %q, not the project", d)
				}
			}
		})
	}
}

// TestNoConsoleChecksWithoutProject: the console checks run only for a
// console project.
func TestNoConsoleChecksWithoutProject(t *testing.T) {
	checks := doctor.Run(context.Background(), doctor.Options{Kubeconfig: filepath.Join(t.TempDir(), "missing")})
	for _, c := range checks {
		if c.ID == doctor.IDNode || c.ID == doctor.IDYarn || c.ID == doctor.IDConsoleRegistry {
			t.Errorf("check %s ran", c.ID)
		}
	}
}
