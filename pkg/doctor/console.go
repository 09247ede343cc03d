package doctor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// The IDs of the checks of a console project (Options.Console).
const (
	IDNode            = "node"
	IDYarn            = "yarn"
	IDConsoleRegistry = "ks-console-registry"
)

// What the console's extension tooling (yarn create ks-project, yarn
// build:ext) needs.
const (
	// MinNodeMajor is the oldest Node.js major version it runs on.
	MinNodeMajor = 16
	// YarnMajor is the Yarn major version it is written for (Yarn 1,
	// "classic": its workspaces and yarn create).
	YarnMajor = 1
	// ConsoleRegistry is KubeSphere's npm registry, which serves the
	// @ks-console/* packages since KubeSphere 4.1.2.
	ConsoleRegistry = "https://registry.npm.kubesphere.com.cn"
	// consoleScope is the npm scope of the console's packages.
	consoleScope = "@ks-console"
)

// Runner runs a program in a directory and returns its standard output.
// The console checks ask node and yarn for their versions through it, so
// that tests need neither.
type Runner interface {
	Output(ctx context.Context, dir, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs found in PATH.
type ExecRunner struct{}

// Output runs name with args in dir and returns its standard output.
func (ExecRunner) Output(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	return cmd.Output()
}

// Console is a console project (the extension's UI, built with the
// console's tooling) whose tools doctor checks.
type Console struct {
	// Dir is the project's directory.
	Dir string
	// Home is the user's home directory, whose .npmrc and .yarnrc also
	// configure registries; "" looks only in Dir.
	Home string
	// Runner runs node and yarn; nil means ExecRunner.
	Runner Runner
}

// packageJSON is what IsConsoleProject reads of a package.json.
type packageJSON struct {
	Dependencies    map[string]any `json:"dependencies"`
	DevDependencies map[string]any `json:"devDependencies"`
}

// IsConsoleProject reports whether dir holds a console project: a
// package.json that depends on @ks-console/* packages, or the layout
// "yarn create ks-project" writes (package.json next to extensions/ and
// configs/). A package.json that is not JSON is an error naming it.
func IsConsoleProject(dir string) (bool, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return false, nil // an extension package, or nothing: not a console project
	}
	name := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var pkg packageJSON
	if err := json.Unmarshal(data, &pkg); err != nil {
		return false, fmt.Errorf("%s is not valid JSON: %w", name, err)
	}
	for _, deps := range []map[string]any{pkg.Dependencies, pkg.DevDependencies} {
		for dep := range deps {
			if strings.HasPrefix(dep, consoleScope+"/") {
				return true, nil
			}
		}
	}
	for _, sub := range []string{"extensions", "configs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return false, nil
		}
	}
	return true, nil
}

// consoleChecks are the checks of opts.Console, in order.
func (r *run) consoleChecks() []namedCheck {
	c := r.opts.Console
	runner := c.Runner
	if runner == nil {
		runner = ExecRunner{}
	}
	return []namedCheck{
		{IDNode, r.bounded(IDNode, func(ctx context.Context) Check { return checkNode(ctx, runner, c.Dir) })},
		{IDYarn, r.bounded(IDYarn, func(ctx context.Context) Check { return checkYarn(ctx, runner, c.Dir) })},
		{IDConsoleRegistry, r.bounded(IDConsoleRegistry, func(context.Context) Check { return checkConsoleRegistry(c.Dir, c.Home) })},
	}
}

// toolVersion runs "name --version" and parses the version it prints
// ("v20.11.1", "1.22.22").
func toolVersion(ctx context.Context, runner Runner, dir, name string) (*semver.Version, string, error) {
	out, err := runner.Output(ctx, dir, name, "--version")
	if err != nil {
		return nil, "", err
	}
	text := strings.TrimSpace(string(out))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	v, err := semver.NewVersion(text)
	if err != nil {
		return nil, text, fmt.Errorf("%s --version printed %q, not a version", name, text)
	}
	return v, text, nil
}

const nodeFix = "install Node.js 16 or later (an LTS release such as 20: https://nodejs.org, or nvm install 20)"

func checkNode(ctx context.Context, runner Runner, dir string) Check {
	v, text, err := toolVersion(ctx, runner, dir, "node")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return Check{Status: Fail, Message: "node is not in PATH: the console tooling (yarn create ks-project, yarn build:ext) runs on Node.js", Fix: nodeFix}
	case err != nil && text != "":
		return Check{Status: Warn, Message: err.Error(), Fix: nodeFix}
	case err != nil:
		return Check{Status: Fail, Message: "node --version failed: " + err.Error(), Fix: nodeFix}
	case v.Major() < MinNodeMajor:
		return Check{Status: Fail, Message: fmt.Sprintf("Node.js %s is older than the console tooling needs (%d or later)", text, MinNodeMajor), Fix: nodeFix}
	}
	return Check{Status: OK, Message: fmt.Sprintf("Node.js %s (%d or later needed)", text, MinNodeMajor)}
}

const yarnFix = "install Yarn 1: npm install --global yarn (or corepack enable && corepack prepare yarn@1.22.22 --activate)"

func checkYarn(ctx context.Context, runner Runner, dir string) Check {
	v, text, err := toolVersion(ctx, runner, dir, "yarn")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return Check{Status: Fail, Message: "yarn is not in PATH: the console tooling is run with Yarn 1 (yarn create ks-project, yarn build:ext)", Fix: yarnFix}
	case err != nil && text != "":
		return Check{Status: Warn, Message: err.Error(), Fix: yarnFix}
	case err != nil:
		return Check{Status: Fail, Message: "yarn --version failed: " + err.Error(), Fix: yarnFix}
	case v.Major() != YarnMajor:
		return Check{Status: Fail, Message: fmt.Sprintf("Yarn %s here is not Yarn 1 (classic), which the console tooling's workspaces and yarn create are written for", text),
			Fix: "use Yarn 1 in this project: yarn set version classic (or corepack prepare yarn@1.22.22 --activate)"}
	}
	return Check{Status: OK, Message: fmt.Sprintf("Yarn %s", text)}
}

// checkConsoleRegistry looks for the @ks-console scope's registry in the
// project's .npmrc and .yarnrc, then the user's.
func checkConsoleRegistry(dir, home string) Check {
	fix := fmt.Sprintf("add the line %s:registry=%s to %s, then log in: npm login --registry %s (KubeSphere gives the account)",
		consoleScope, ConsoleRegistry, filepath.Join(dir, ".npmrc"), ConsoleRegistry)
	files := []string{filepath.Join(dir, ".npmrc"), filepath.Join(dir, ".yarnrc")}
	if home != "" {
		files = append(files, filepath.Join(home, ".npmrc"), filepath.Join(home, ".yarnrc"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Check{Status: Warn, Message: fmt.Sprintf("cannot read %s: %v", f, err), Fix: "check the file's permissions"}
		}
		registry, ok := scopeRegistry(data, filepath.Base(f) == ".yarnrc")
		if !ok {
			continue
		}
		if strings.TrimSuffix(registry, "/") != ConsoleRegistry {
			return Check{Status: Warn, Message: fmt.Sprintf("%s sends %s/* to %s, not KubeSphere's registry %s (which has served them since KubeSphere 4.1.2)", f, consoleScope, registry, ConsoleRegistry),
				Fix: fmt.Sprintf("unless that registry mirrors KubeSphere's, set %s:registry=%s there", consoleScope, ConsoleRegistry)}
		}
		return Check{Status: OK, Message: fmt.Sprintf("%s/* come from %s (%s)", consoleScope, ConsoleRegistry, f)}
	}
	return Check{Status: Fail, Message: fmt.Sprintf("no .npmrc or .yarnrc sets the %s scope's registry: its packages come from KubeSphere's npm registry since KubeSphere 4.1.2, so yarn install cannot find them", consoleScope),
		Fix: fix}
}

// scopeRegistry finds "@ks-console:registry" in an .npmrc ("key=value")
// or a Yarn 1 .yarnrc ("key value", either part possibly quoted).
func scopeRegistry(data []byte, yarnrc bool) (string, bool) {
	key := consoleScope + ":registry"
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		var k, v string
		var ok bool
		if yarnrc {
			k, v, ok = cutUnquoted(line)
		} else {
			k, v, ok = strings.Cut(line, "=")
		}
		if ok && strings.Trim(strings.TrimSpace(k), `"`) == key {
			return strings.Trim(strings.TrimSpace(v), `"'`), true
		}
	}
	return "", false
}

// cutUnquoted splits a .yarnrc line at the first space or tab outside
// double quotes.
func cutUnquoted(line string) (key, value string, ok bool) {
	quoted := false
	for i, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			return line[:i], line[i+1:], true
		}
	}
	return line, "", false
}
