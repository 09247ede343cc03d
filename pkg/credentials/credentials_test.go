package credentials_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/ksbuilder/ksbuilder/pkg/credentials"
)

const (
	host  = "apis.kubesphere.cloud"
	token = "kck-1e63267b-cb3c-4757-b739-3d94a06781aa"
)

func newStore(t *testing.T, kr credentials.Keyring) (*credentials.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ksbuilder")
	return credentials.New(credentials.Options{Dir: dir, Keyring: kr, Timeout: 50 * time.Millisecond}), dir
}

func TestKeyring(t *testing.T) {
	keyring.MockInit()
	s, dir := newStore(t, credentials.SystemKeyring{})

	res, err := s.Set(host, token)
	if err != nil || res.Source != credentials.SourceKeyring || res.KeyringErr != nil {
		t.Fatalf("Set = %+v, %v", res, err)
	}
	if got, _ := keyring.Get(credentials.Service, host); got != token {
		t.Fatalf("keyring holds %q", got)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the keyring store wrote to the config dir: %v", err)
	}
	got, res, err := s.Get(host)
	if err != nil || got != token || res.Source != credentials.SourceKeyring {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
	if _, _, err := s.Get("other.example.com"); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("Get(other) err = %v", err)
	}
	removed, _, err := s.Delete(host)
	if err != nil || !removed {
		t.Fatalf("Delete = %v, %v", removed, err)
	}
	removed, _, err = s.Delete(host)
	if err != nil || removed {
		t.Fatalf("second Delete = %v, %v", removed, err)
	}
	if _, _, err := s.Get(host); !errors.Is(err, credentials.ErrNotFound) {
		t.Fatalf("Get after Delete err = %v", err)
	}
}

func TestEnvTokenWins(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	s := credentials.New(credentials.Options{Dir: dir, Keyring: credentials.SystemKeyring{}, EnvToken: "kck-from-env"})
	if _, err := s.Set(host, token); err != nil {
		t.Fatal(err)
	}
	got, res, err := s.Get(host)
	if err != nil || got != "kck-from-env" || res.Source != credentials.SourceEnv {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
}

func checkModes(t *testing.T, dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(filepath.Join(dir, credentials.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestFallbackToFileWhenKeyringFails(t *testing.T) {
	dbusErr := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	keyring.MockInitWithError(dbusErr)
	s, dir := newStore(t, credentials.SystemKeyring{})

	res, err := s.Set(host, token)
	if err != nil || res.Source != credentials.SourceFile || !errors.Is(res.KeyringErr, dbusErr) {
		t.Fatalf("Set = %+v, %v", res, err)
	}
	checkModes(t, dir)
	if s.FilePath() != filepath.Join(dir, credentials.FileName) {
		t.Fatalf("FilePath = %s", s.FilePath())
	}
	// A second host shares the file.
	if _, err := s.Set("cloud.example.com", "kck-second"); err != nil {
		t.Fatal(err)
	}
	got, res, err := s.Get(host)
	if err != nil || got != token || res.Source != credentials.SourceFile {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
	removed, res, err := s.Delete(host)
	if err != nil || !removed || res.KeyringErr == nil {
		t.Fatalf("Delete = %v, %+v, %v", removed, res, err)
	}
	if got, _, err := s.Get("cloud.example.com"); err != nil || got != "kck-second" {
		t.Fatalf("the other host's token = %q, %v", got, err)
	}
	checkModes(t, dir)
	if _, _, err := s.Delete("cloud.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, credentials.FileName)); !os.IsNotExist(err) {
		t.Fatalf("an empty token file was kept: %v", err)
	}
}

func TestKeyringRemovesStaleFileCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ksbuilder")
	fileOnly := credentials.New(credentials.Options{Dir: dir})
	if res, err := fileOnly.Set(host, "kck-old"); err != nil || res.Source != credentials.SourceFile || res.KeyringErr != nil {
		t.Fatalf("Set = %+v, %v", res, err)
	}
	keyring.MockInit()
	s := credentials.New(credentials.Options{Dir: dir, Keyring: credentials.SystemKeyring{}})
	// Until a new login, the old file token is found behind the keyring.
	if got, res, err := s.Get(host); err != nil || got != "kck-old" || res.Source != credentials.SourceFile {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
	if _, err := s.Set(host, token); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, credentials.FileName))
	if err == nil && strings.Contains(string(data), "kck-old") {
		t.Fatalf("a stale token stayed on disk: %s", data)
	}
}

// blockingKeyring never answers, like a keyring waiting for an unlock prompt.
type blockingKeyring struct{ release chan struct{} }

func (b blockingKeyring) Get(string, string) (string, error) { <-b.release; return "", nil }
func (b blockingKeyring) Set(string, string, string) error   { <-b.release; return nil }
func (b blockingKeyring) Delete(string, string) error        { <-b.release; return nil }

func TestKeyringTimeout(t *testing.T) {
	kr := blockingKeyring{release: make(chan struct{})}
	defer close(kr.release)
	s, dir := newStore(t, kr)
	res, err := s.Set(host, token)
	var timeout *credentials.TimeoutError
	if err != nil || res.Source != credentials.SourceFile || !errors.As(res.KeyringErr, &timeout) {
		t.Fatalf("Set = %+v, %v", res, err)
	}
	checkModes(t, dir)
	got, res, err := s.Get(host)
	if err != nil || got != token || res.Source != credentials.SourceFile {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
}

// slowKeyring holds tokens in memory; while slow, Set answers only after
// release is closed (too late for the store's timeout) and then stores.
type slowKeyring struct {
	mu      sync.Mutex
	tokens  map[string]string
	slow    bool
	release chan struct{}
	stored  chan struct{}
}

func (k *slowKeyring) Get(_, account string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.tokens[account]; ok {
		return t, nil
	}
	return "", keyring.ErrNotFound
}

func (k *slowKeyring) Set(_, account, secret string) error {
	k.mu.Lock()
	slow := k.slow
	k.mu.Unlock()
	if slow {
		<-k.release
		defer close(k.stored)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tokens[account] = secret
	return nil
}

func (k *slowKeyring) Delete(_, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.tokens, account)
	return nil
}

// A keyring that times out on login keeps the previous token, and may get
// the new one late: the token of the last login must win either way.
func TestKeyringTimeoutLeavesNoStaleToken(t *testing.T) {
	kr := &slowKeyring{tokens: map[string]string{}, release: make(chan struct{}), stored: make(chan struct{})}
	s, _ := newStore(t, kr)
	if res, err := s.Set(host, "kck-old"); err != nil || res.Source != credentials.SourceKeyring {
		t.Fatalf("first Set = %+v, %v", res, err)
	}
	kr.mu.Lock()
	kr.slow = true
	kr.mu.Unlock()
	res, err := s.Set(host, token)
	var timeout *credentials.TimeoutError
	if err != nil || res.Source != credentials.SourceFile || !errors.As(res.KeyringErr, &timeout) {
		t.Fatalf("second Set = %+v, %v", res, err)
	}
	if got, res, err := s.Get(host); err != nil || got != token || res.Source != credentials.SourceFile {
		t.Fatalf("Get with the old token in the keyring = %q, %+v, %v", got, res, err)
	}
	close(kr.release) // the keyring answers late
	<-kr.stored
	if got, _, err := s.Get(host); err != nil || got != token {
		t.Fatalf("Get after the late keyring write = %q, %v", got, err)
	}
	// Logging in again with a working keyring moves the token there.
	kr.mu.Lock()
	kr.slow = false
	kr.mu.Unlock()
	if res, err := s.Set(host, "kck-new"); err != nil || res.Source != credentials.SourceKeyring {
		t.Fatalf("third Set = %+v, %v", res, err)
	}
	if got, res, err := s.Get(host); err != nil || got != "kck-new" || res.Source != credentials.SourceKeyring {
		t.Fatalf("Get = %q, %+v, %v", got, res, err)
	}
}

func TestCorruptFile(t *testing.T) {
	s, dir := newStore(t, nil)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, credentials.FileName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Get(host)
	if err == nil || !strings.Contains(err.Error(), credentials.FileName+": invalid JSON") {
		t.Fatalf("err = %v", err)
	}
}
