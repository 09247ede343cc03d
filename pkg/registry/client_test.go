package registry_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

// chartTgz packages a minimal chart.
func chartTgz(t *testing.T, name, version, description string) []byte {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, Description: description}}
	dir := t.TempDir()
	p, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func start(t *testing.T, opts ociregistry.Options) *ociregistry.Server {
	t.Helper()
	s := ociregistry.Start(opts)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, opts registry.Options) *registry.Client {
	t.Helper()
	if opts.RegistryConfig == "" {
		opts.RegistryConfig = filepath.Join(t.TempDir(), "config.json")
	}
	c, err := registry.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ref(t *testing.T, s string) registry.Reference {
	t.Helper()
	r, err := registry.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func errorKind(err error) registry.ErrorKind {
	var e *registry.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestPushPull(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{})
	c := newClient(t, registry.Options{PlainHTTP: true})
	data := chartTgz(t, "hello", "0.1.0", "one")
	r := ref(t, "oci://"+s.Host+"/charts/hello:0.1.0")
	created := time.Unix(0, 0)

	first, err := c.Push(r, data, false, created)
	if err != nil {
		t.Fatal(err)
	}
	if first.Unchanged || first.Digest == "" || first.Ref != r.String() {
		t.Fatalf("first push: %+v", first)
	}
	pulled, err := c.Pull(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pulled.Data, data) {
		t.Error("pulled bytes differ from pushed bytes")
	}
	if pulled.Digest != first.Digest {
		t.Errorf("pulled digest %s, pushed %s", pulled.Digest, first.Digest)
	}

	// The same bytes again: nothing is pushed.
	again, err := c.Push(r, data, false, created.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Unchanged || again.Digest != first.Digest {
		t.Errorf("second push: %+v, want unchanged with digest %s", again, first.Digest)
	}

	// Other bytes under the same tag: refused, then forced.
	other := chartTgz(t, "hello", "0.1.0", "two")
	_, err = c.Push(r, other, false, created)
	var exists *registry.TagExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("push of other bytes: %v, want TagExistsError", err)
	}
	forced, err := c.Push(r, other, true, created)
	if err != nil {
		t.Fatal(err)
	}
	if forced.Unchanged || forced.Digest == first.Digest {
		t.Errorf("forced push: %+v", forced)
	}
	pulled, err = c.Pull(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pulled.Data, other) {
		t.Error("the forced push did not replace the chart")
	}
}

func TestPullLatestTag(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{})
	c := newClient(t, registry.Options{PlainHTTP: true})
	for _, v := range []string{"0.1.0", "0.10.0", "0.2.0"} {
		if _, err := c.Push(ref(t, "oci://"+s.Host+"/hello:"+v), chartTgz(t, "hello", v, ""), false, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// A registry with a port and no tag: the highest version.
	pulled, err := c.Pull(ref(t, "oci://"+s.Host+"/hello"))
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Ref.Tag != "0.10.0" {
		t.Errorf("pulled tag %s, want 0.10.0", pulled.Ref.Tag)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{})
	c := newClient(t, registry.Options{PlainHTTP: true})
	if _, err := c.Push(ref(t, "oci://"+s.Host+"/hello:0.1.0"), chartTgz(t, "hello", "0.1.0", ""), false, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"oci://" + s.Host + "/hello:9.9.9", "oci://" + s.Host + "/missing", "oci://" + s.Host + "/missing:0.1.0"} {
		_, err := c.Pull(ref(t, r))
		if errorKind(err) != registry.NotFound {
			t.Errorf("pull %s: %v, want NotFound", r, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	s := ociregistry.Start(ociregistry.Options{})
	host := s.Host
	s.Close()
	c := newClient(t, registry.Options{PlainHTTP: true})
	_, err := c.Pull(ref(t, "oci://"+host+"/hello:0.1.0"))
	if errorKind(err) != registry.Unreachable {
		t.Errorf("pull from a closed registry: %v, want Unreachable", err)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{Username: "user", Password: "secret"})
	config := filepath.Join(t.TempDir(), "registry", "config.json")
	c := newClient(t, registry.Options{PlainHTTP: true, RegistryConfig: config})
	r := ref(t, "oci://"+s.Host+"/hello:0.1.0")
	data := chartTgz(t, "hello", "0.1.0", "")

	_, err := c.Push(r, data, false, time.Unix(0, 0))
	if errorKind(err) != registry.Unauthorized {
		t.Fatalf("push without login: %v, want Unauthorized", err)
	}
	if err := c.Login(s.Host, "user", "wrong"); errorKind(err) != registry.Unauthorized {
		t.Fatalf("login with a wrong password: %v, want Unauthorized", err)
	}
	if err := c.Login(s.Host, "user", "secret"); err != nil {
		t.Fatal(err)
	}
	// A new client reads the stored credentials.
	c = newClient(t, registry.Options{PlainHTTP: true, RegistryConfig: config})
	if _, err := c.Push(r, data, false, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(s.Host); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, registry.Options{PlainHTTP: true, RegistryConfig: config})
	if _, err := c.Pull(r); errorKind(err) != registry.Unauthorized {
		t.Fatalf("pull after logout: %v, want Unauthorized", err)
	}
	// Logging out again: there is nothing to remove.
	var notIn *registry.NotLoggedInError
	if err := c.Logout(s.Host); !errors.As(err, &notIn) || notIn.Host != s.Host || notIn.File != config {
		t.Fatalf("second logout: %v, want a NotLoggedInError", err)
	}
}

// A logout of a host with no login is an error naming the hosts the file
// holds logins for (a typo in the host is the usual cause), and changes
// nothing.
func TestLogoutNotLoggedIn(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{Username: "user", Password: "secret"})
	dir := t.TempDir()
	// No credentials file at all.
	missing := filepath.Join(dir, "missing.json")
	c := newClient(t, registry.Options{RegistryConfig: missing})
	if err := c.Logout("registry.example.com"); err == nil ||
		err.Error() != "not logged in to registry.example.com: "+missing+" holds no login for it" {
		t.Errorf("logout without a credentials file: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("logout created %s: %v", missing, err)
	}

	config := filepath.Join(dir, "config.json")
	c = newClient(t, registry.Options{PlainHTTP: true, RegistryConfig: config})
	if err := c.Login(s.Host, "user", "secret"); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Logout("registry.example.com")
	want := "not logged in to registry.example.com: " + config + " holds no login for it, only for " + s.Host
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if after, err := os.ReadFile(config); err != nil || string(after) != string(before) {
		t.Errorf("the credentials file changed: %v\n%s", err, after)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := start(t, ociregistry.Options{TLS: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := s.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	r := ref(t, "oci://"+s.Host+"/hello:0.1.0")
	data := chartTgz(t, "hello", "0.1.0", "")

	_, err := newClient(t, registry.Options{}).Push(r, data, false, time.Unix(0, 0))
	if errorKind(err) != registry.TLSFailure {
		t.Fatalf("push without the CA: %v, want TLSFailure", err)
	}
	_, err = newClient(t, registry.Options{PlainHTTP: true}).Push(r, data, false, time.Unix(0, 0))
	if err == nil {
		t.Fatal("plain HTTP to a TLS registry worked")
	}
	if _, err := newClient(t, registry.Options{CAFile: ca}).Push(r, data, false, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	pulled, err := newClient(t, registry.Options{InsecureSkipTLSVerify: true}).Pull(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pulled.Data, data) {
		t.Error("pulled bytes differ")
	}
}

func TestBadTLSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []registry.Options{
		{CAFile: notPEM},
		{CAFile: filepath.Join(dir, "missing.pem")},
		{CertFile: notPEM},
	} {
		opts.RegistryConfig = filepath.Join(dir, "config.json")
		if _, err := registry.New(opts); err == nil {
			t.Errorf("New(%+v) accepted bad TLS files", opts)
		}
	}
}

// TestServerErrorIsSanitized: a registry's error message prints without
// its escape sequences and capped.
func TestServerErrorIsSanitized(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A", 4000) // oras reads at most 8 KiB of an error body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"\u001b[2J\u001b]0;pwned\u0007no %s"}]}`, long)
	}))
	defer srv.Close()
	c := newClient(t, registry.Options{PlainHTTP: true})
	_, err := c.Pull(ref(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/hello:0.1.0"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x07") || strings.Contains(msg, "pwned") {
		t.Errorf("escape sequences pass through: %q", msg[:min(len(msg), 120)])
	}
	if len(msg) > 2048 || !strings.Contains(msg, "more bytes") || !strings.Contains(msg, "no AAA") {
		t.Errorf("message of %d bytes, want it capped: %q", len(msg), msg[:min(len(msg), 120)])
	}
}
