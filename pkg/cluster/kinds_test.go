package cluster_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/kindsfixture"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// awaitStates polls an extension's objects of the four kinds until each
// has the state, and returns them.
func awaitStates(t *testing.T, c *cluster.Client, name, state string) []cluster.ObjectStatus {
	t.Helper()
	ctx := testContext(t)
	for {
		objs, err := c.ExtensionObjects(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		got := cluster.ObjectStatuses(objs)
		done := len(got) == 4
		for _, o := range got {
			done = done && o.State == state
		}
		if done {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the objects of %s never all became %s: %+v", name, state, got)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// An extension's JSBundle, APIService, ReverseProxy and ExtensionEntry
// become Available once KubeSphere has installed the release (Disabled
// with enabled: false), the bundle with its default link and its
// ConfigMap holding the chart's bundle file; a second extension whose
// objects KubeSphere would refuse because of the first's is refused
// before anything is written, while the first upgrades over its own.
func TestExtensionKinds(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	const name = "kinds-a"
	dir := kindsfixture.Write(t, filepath.Join(t.TempDir(), name), name, kindsfixture.Options{})
	mustInstall(t, c, dir, cluster.InstallOptions{})
	t.Cleanup(func() { _ = uninstall(t, c, name, true) })

	got := awaitStates(t, c, name, "Available")
	want := []cluster.ObjectStatus{
		{Kind: "JSBundle", Name: name, State: "Available", Serves: "/dist/kinds-a/index.js"},
		{Kind: "APIService", Name: "v1alpha1." + name, State: "Available", Serves: "/kapis/kinds-a.kubesphere.io/v1alpha1"},
		{Kind: "ReverseProxy", Name: name, State: "Available", Serves: "* /proxy/kinds-a/*"},
		{Kind: "ExtensionEntry", Name: name, State: "Available", Serves: "kinds-a (/kinds-a)"},
	}
	if len(got) != len(want) {
		t.Fatalf("objects %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	objs, err := c.ExtensionObjects(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ref := objs.JSBundles[0].Spec.RawFrom.ConfigMapKeyRef
	core := kubernetes.NewForConfigOrDie(testEnv.Config)
	cm, err := core.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cm.Data[ref.Key], "System.register(") {
		t.Errorf("ConfigMap %s/%s key %s does not hold the bundle: %q", ref.Namespace, ref.Name, ref.Key, cm.Data[ref.Key])
	}

	// The same extension upgrades over its own objects.
	mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"x": 1}}})

	t.Run("refused", func(t *testing.T) {
		const other = "kinds-b"
		dir := kindsfixture.Write(t, filepath.Join(t.TempDir(), other), other, kindsfixture.Options{
			Link: "/dist/kinds-a/index.js", Group: "kinds-a.kubesphere.io", ProxyPath: "/proxy/kinds-a/api", Entry: "kinds-a",
		})
		_, err := c.Install(ctx, cluster.InstallOptions{Publication: publication(t, dir)})
		var check *cluster.CheckError
		if !errors.As(err, &check) {
			t.Fatalf("Install: %v, want a *cluster.CheckError", err)
		}
		wantProblems := []string{
			`JSBundle kinds-b: link "/dist/kinds-a/index.js" is already used by JSBundle kinds-a of extension kinds-a; KubeSphere refuses two bundles with one link: set another status.link under /dist/kinds-b/, or uninstall kinds-a`,
			`APIService v1alpha1.kinds-b: group/version kinds-a.kubesphere.io/v1alpha1 (/kapis/kinds-a.kubesphere.io/v1alpha1) is already used by APIService v1alpha1.kinds-a of extension kinds-a; KubeSphere refuses a second APIService for one group and version: use a group of your own (e.g. kinds-b.kubesphere.io), or uninstall kinds-a`,
			`ReverseProxy kinds-b: matcher * /proxy/kinds-a/api (overlaps * /proxy/kinds-a/*) is already used by ReverseProxy kinds-a of extension kinds-a; KubeSphere refuses overlapping matchers: match a path of your own (e.g. /proxy/kinds-b/*), or uninstall kinds-a`,
			`ExtensionEntry kinds-b: entry name "kinds-a", entry link "/kinds-a" is already used by ExtensionEntry kinds-a of extension kinds-a; KubeSphere refuses entry names and links used by another ExtensionEntry: rename them, or uninstall kinds-a`,
		}
		if strings.Join(check.Problems, "\n") != strings.Join(wantProblems, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(check.Problems, "\n"), strings.Join(wantProblems, "\n"))
		}
		if _, err := c.Plan(ctx, other); !errors.Is(err, cluster.ErrNotInstalled) {
			t.Errorf("InstallPlan %s: %v, want none", other, err)
		}
		if _, err := c.ShowVersion(ctx, other, ""); err == nil {
			t.Errorf("%s was published although its installation was refused", other)
		}
	})

	// enabled: false makes them Disabled.
	dyn := dynamic.NewForConfigOrDie(testEnv.Config)
	plans := dyn.Resource(schema.GroupVersionResource{Group: kubesphere.GroupVersion.Group, Version: kubesphere.GroupVersion.Version, Resource: kubesphere.ResourceInstallPlans})
	if _, err := plans.Patch(ctx, name, types.MergePatchType, []byte(`{"spec":{"enabled":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitStates(t, c, name, "Disabled")
}

// answering is a transport that answers the requests for
// extensions.kubesphere.io with a status code of its own (the kinds'
// CRDs missing, RBAC refusing them) and sends the rest on.
type answering struct {
	next http.RoundTripper
	code int
}

func (a answering) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/apis/extensions.kubesphere.io/") {
		return a.next.RoundTrip(req)
	}
	reason := metav1.StatusReasonNotFound
	if a.code == http.StatusForbidden {
		reason = metav1.StatusReasonForbidden
	}
	body, _ := json.Marshal(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Code: int32(a.code), Reason: reason, Message: "refused by the test"})
	return &http.Response{StatusCode: a.code, Header: http.Header{"Content-Type": []string{"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

// Without the kinds' CRDs the check is skipped quietly; when RBAC refuses
// the lists, install warns, points at doctor, and goes on.
func TestExtensionKindsUnreadable(t *testing.T) {
	t.Parallel()
	dir := kindsfixture.Write(t, filepath.Join(t.TempDir(), "kinds-unreadable"), "kinds-unreadable", kindsfixture.Options{})
	for _, tc := range []struct {
		code int
		want string
	}{
		{http.StatusNotFound, ""},
		{http.StatusForbidden, `not checking the extension's JSBundles, APIServices, ReverseProxies and ExtensionEntries against other extensions': cannot list jsbundles.extensions.kubesphere.io: refused by the test ("ksbuilder doctor" lists the permissions ksbuilder needs)`},
	} {
		cfg := rest.CopyConfig(testEnv.Require(t))
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return answering{rt, tc.code} })
		c, err := cluster.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Install(testContext(t), cluster.InstallOptions{Publication: publication(t, dir), DryRun: true})
		if err != nil {
			t.Fatalf("%d: %v", tc.code, err)
		}
		if got := strings.Join(res.Warnings, "\n"); got != tc.want {
			t.Errorf("%d: warnings %q, want %q", tc.code, got, tc.want)
		}
	}
}

// A fresh full scaffold installs, and KubeSphere serves what it declares:
// its JSBundle becomes Available at /dist/<name>/index.js, reading the
// ConfigMap that holds the chart's bundle file, and its APIService becomes
// Available.
func TestScaffoldKinds(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	const name = "kinds-scaffold"
	dir := scaffold(t, name, create.Full)
	mustInstall(t, c, dir, cluster.InstallOptions{})
	t.Cleanup(func() { _ = uninstall(t, c, name, true) })
	var objs []cluster.ObjectStatus
	for {
		list, err := c.ExtensionObjects(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		objs = cluster.ObjectStatuses(list)
		available := len(list.JSBundles) == 1 && len(list.APIServices) == 1
		for _, o := range objs {
			available = available && o.State == "Available"
		}
		if available {
			ref := list.JSBundles[0].Spec.RawFrom.ConfigMapKeyRef
			cm, err := kubernetes.NewForConfigOrDie(testEnv.Config).CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			file, err := os.ReadFile(filepath.Join(dir, "charts", "frontend", "files", "index.js"))
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[ref.Key] != string(file) {
				t.Errorf("ConfigMap %s/%s key %s does not hold charts/frontend/files/index.js", ref.Namespace, ref.Name, ref.Key)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the scaffold's objects never became Available: %+v", objs)
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, o := range objs {
		if o.Kind == "JSBundle" && o.Serves != "/dist/"+name+"/index.js" {
			t.Errorf("JSBundle %s serves %q, want /dist/%s/index.js", o.Name, o.Serves, name)
		}
	}
}
