package lint

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
)

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"b/extension.yaml",
		"a/extension.yaml",
		"a/nested/extension.yaml", // inside an extension: not another one
		"group/c/extension.yaml",
		"group/d/README.md", // not an extension
		".hidden/e/extension.yaml",
		"node_modules/f/extension.yaml",
		"ignored/g/extension.yaml",
		"group/old/h/extension.yaml",
		"group/.helmignore",
		"packages/hello-0.1.0.tgz", // packages are extensions too
		"packages/notes.txt",
		"packages/.partial.tgz",
		"a/hello-0.1.0.tgz", // inside an extension: its build output
		"ignored/i-0.1.0.tgz",
		"group/old/j-0.1.0.tgz",
	} {
		data := ""
		if strings.HasSuffix(f, ".helmignore") {
			data = "old/\n"
		}
		writeFile(t, filepath.Join(root, f), data)
	}
	writeFile(t, filepath.Join(root, ".helmignore"), "# comment\nignored\n")
	got, err := Discover(root)
	require.NoError(t, err)
	var rel []string
	for _, p := range got {
		r, err := filepath.Rel(root, p)
		require.NoError(t, err)
		rel = append(rel, filepath.ToSlash(r))
	}
	assert.Equal(t, []string{"a", "b", "group/c", "packages/hello-0.1.0.tgz"}, rel)

	assert.True(t, IsExtension(filepath.Join(root, "a")))
	assert.False(t, IsExtension(root))
	assert.True(t, IsExtension(filepath.Join(root, "a", "extension.yaml")), "a file is a package")
}

// TestLintAll lints the corpus on two workers: results come back in the
// order of the targets, as each one alone gives them.
func TestLintAll(t *testing.T) {
	var targets []Target
	for _, name := range corpus {
		targets = append(targets, Target{Path: filepath.Join("../../testdata/corpus", name)})
	}
	results, err := LintAll(context.Background(), targets, 2)
	require.NoError(t, err)
	require.Len(t, results, len(corpus))
	for i, name := range corpus {
		want, err := os.ReadFile(filepath.Join(fixtures, "corpus", strings.ReplaceAll(name, "/", "_")+".golden"))
		require.NoError(t, err)
		assert.Equal(t, string(want), format(results[i].Findings), name)
	}

	_, err = LintAll(context.Background(), append(targets, Target{Path: "no-such-dir"}), 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-dir")
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestChangedFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary")
	}
	repo := t.TempDir()
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	for _, ext := range []string{"exts/a", "exts/b", "exts/c"} {
		fixture.Write(t, filepath.Join(repo, ext), files)
	}
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-qm", "base")
	gitRun(t, repo, "checkout", "-qb", "topic")
	writeFile(t, filepath.Join(repo, "exts/a/README.md"), "changed\n")
	gitRun(t, repo, "commit", "-qam", "a")
	writeFile(t, filepath.Join(repo, "exts/b/values.yaml"), "x: 1\n") // in the work tree only
	writeFile(t, filepath.Join(repo, "notes.txt"), "new\n")           // untracked, outside extensions

	changed, err := ChangedFiles(filepath.Join(repo, "exts"), "main")
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(repo)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		filepath.Join(real, "exts/a/README.md"), filepath.Join(real, "exts/b/values.yaml"), filepath.Join(real, "notes.txt"),
	}, changed)
	assert.True(t, Touched(filepath.Join(repo, "exts/a"), changed))
	assert.True(t, Touched(filepath.Join(repo, "exts/b"), changed))
	assert.False(t, Touched(filepath.Join(repo, "exts/c"), changed))
	assert.False(t, Touched(filepath.Join(repo, "ext"), changed), "a prefix of a name is not a parent")

	for _, ref := range []string{"no-such-branch", "--output=/tmp/x", ""} {
		_, err = ChangedFiles(repo, ref)
		var refErr *RefError
		require.True(t, errors.As(err, &refErr), "%q: %v", ref, err)
		assert.Contains(t, err.Error(), "is not a commit of this repository")
	}

	_, err = ChangedFiles(t.TempDir(), "main")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs a git work tree")
}
