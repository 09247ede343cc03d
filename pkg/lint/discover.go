package lint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/ignore"

	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// IsExtension reports whether a path is one extension: a file (a packaged
// .tgz) or a directory holding extension.yaml.
func IsExtension(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return true // a package, or a path Load reports
	}
	_, err = os.Stat(filepath.Join(p, "extension.yaml"))
	return err == nil
}

// Discover returns the extensions below a directory that is not one
// itself: every directory holding extension.yaml, without looking inside
// it, and every package (.tgz file) outside those, skipping hidden entries,
// node_modules and whatever a .helmignore on the way ignores. The paths
// start with root and are sorted.
func Discover(root string) ([]string, error) {
	var found []string
	// rules holds the .helmignore of each directory visited that has one.
	type helmignore struct {
		dir   string
		rules *ignore.Rules
	}
	var ignores []helmignore
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ignored := func() (bool, error) {
			fi, err := d.Info()
			if err != nil {
				return false, err
			}
			for _, ig := range ignores {
				rel, err := filepath.Rel(ig.dir, p)
				if err == nil && !strings.HasPrefix(rel, "..") && ig.rules.Ignore(filepath.ToSlash(rel), fi) {
					return true, nil
				}
			}
			return false, nil
		}
		if !d.IsDir() {
			if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".tgz") || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			if skip, err := ignored(); err != nil || skip {
				return err
			}
			found = append(found, p)
			return nil
		}
		if p != root {
			name := d.Name()
			if strings.HasPrefix(name, ".") || name == "node_modules" {
				return filepath.SkipDir
			}
			if skip, err := ignored(); err != nil || skip {
				if err == nil {
					err = filepath.SkipDir
				}
				return err
			}
			if _, err := os.Stat(filepath.Join(p, "extension.yaml")); err == nil {
				found = append(found, p)
				return filepath.SkipDir
			}
		}
		if rules, err := ignore.ParseFile(filepath.Join(p, ".helmignore")); err == nil {
			ignores = append(ignores, helmignore{p, rules})
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", filepath.Join(p, ".helmignore"), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(found)
	return found, nil
}

// Target is one extension to lint and the options for it.
type Target struct {
	Path    string
	Options Options
}

// LintAll loads and lints the targets on up to workers goroutines
// (GOMAXPROCS when workers < 1). The results are in the order of the
// targets; the error is the first target's, in that order, that could not
// be read or linted. Once ctx is cancelled the run stops early and returns
// ctx's error.
func LintAll(ctx context.Context, targets []Target, workers int) ([]*Result, error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]*Result, len(targets))
	errs := make([]error, len(targets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					continue
				}
				src, err := source.Load(targets[i].Path)
				if err != nil {
					errs[i] = err
					continue
				}
				if prepare := targets[i].Options.Prepare; prepare != nil {
					if err := prepare(ctx, src); err != nil {
						errs[i] = fmt.Errorf("%s: %w", targets[i].Path, err)
						continue
					}
				}
				results[i], err = lintContext(ctx, src, targets[i].Options)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", targets[i].Path, err)
				}
			}
		}()
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// RefError is a --changed-since reference git does not know.
type RefError struct {
	Ref string
	Err string
}

func (e *RefError) Error() string {
	msg := fmt.Sprintf("%q is not a commit of this repository", e.Ref)
	if e.Err != "" {
		msg += ": " + e.Err
	}
	return msg + " (name a branch, tag or commit, e.g. origin/main; in a shallow clone fetch it first)"
}

// ChangedFiles returns the absolute paths of the files of the git work tree
// holding dir that changed since ref: committed since the merge base of ref
// and HEAD, changed in the work tree, or new and not ignored. It runs the
// git binary.
func ChangedFiles(dir, ref string) ([]string, error) {
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("--changed-since needs a git work tree: %w", err)
	}
	top = strings.TrimSpace(top)
	if _, err := git(dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}"); err != nil {
		return nil, &RefError{Ref: ref}
	}
	base, err := git(dir, "merge-base", "--end-of-options", ref, "HEAD")
	if err != nil {
		return nil, &RefError{Ref: ref, Err: "it has no common history with HEAD"}
	}
	changed, err := git(top, "diff", "--name-only", "-z", "--no-renames", strings.TrimSpace(base), "--")
	if err != nil {
		return nil, err
	}
	untracked, err := git(top, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, name := range strings.Split(changed+untracked, "\x00") {
		if name != "" {
			files = append(files, filepath.Join(top, filepath.FromSlash(name)))
		}
	}
	return files, nil
}

// git runs git in dir and returns its standard output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return "", fmt.Errorf("git %s: %s", args[0], msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return out.String(), nil
}

// Touched reports whether any of the files (absolute paths) lies in the
// extension at p (a directory or a .tgz).
func Touched(p string, files []string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, f := range files {
		if f == abs || strings.HasPrefix(f, abs+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
