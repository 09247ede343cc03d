package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// releaseRef is a Helm release on a cluster.
type releaseRef struct {
	conn      *conn
	name      string
	namespace string
}

// loadedRelease is a release with its stored record.
type loadedRelease struct {
	releaseRef
	release *release.Release
}

// loadRelease reads a release and records whether it is deployed; false
// when it cannot be checked further.
func (r *runner) loadRelease(ctx context.Context, ref releaseRef) (loadedRelease, bool) {
	var rel *release.Release
	r.run(ctx, Check{
		Name:    fmt.Sprintf("Helm release %s/%s is deployed", ref.namespace, ref.name),
		Cluster: ref.conn.cluster,
		Run: func(ctx context.Context) Outcome {
			var err error
			if rel, err = readRelease(ctx, ref.conn.core, ref.namespace, ref.name); err != nil {
				return Outcome{Status: Failed, Reason: err.Error()}
			}
			if rel.Info == nil || rel.Info.Status != release.StatusDeployed {
				status := "unknown"
				if rel.Info != nil {
					status = rel.Info.Status.String()
				}
				return Outcome{Status: Failed, Reason: fmt.Sprintf("revision %d is %s", rel.Version, status)}
			}
			return Outcome{Status: Passed, Reason: fmt.Sprintf("revision %d", rel.Version)}
		},
	})
	return loadedRelease{releaseRef: ref, release: rel}, rel != nil
}

// readRelease reads the newest revision of a Helm release from its
// Secrets (Helm's default storage, which KubeSphere's executor uses).
func readRelease(ctx context.Context, core corev1client.CoreV1Interface, ns, name string) (*release.Release, error) {
	if ns == "" {
		return nil, fmt.Errorf("the InstallPlan records no target namespace for release %s", name)
	}
	list, err := core.Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + name})
	if err != nil {
		return nil, fmt.Errorf("listing the Helm release Secrets of %s in namespace %s: %w", name, ns, err)
	}
	newest, version := -1, -1
	for i, s := range list.Items {
		if v, err := strconv.Atoi(s.Labels["version"]); err == nil && v > version {
			newest, version = i, v
		}
	}
	if newest < 0 {
		return nil, fmt.Errorf("no Helm release %s in namespace %s (no Secret labelled owner=helm,name=%s)", name, ns, name)
	}
	secret := list.Items[newest]
	rel, err := decodeRelease(secret.Data["release"])
	if err != nil {
		return nil, fmt.Errorf("Secret %s/%s does not hold a Helm release: %w", ns, secret.Name, err)
	}
	return rel, nil
}

// gzipMagic starts a gzip stream.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// decodeRelease reads Helm's storage format: base64 of (usually gzipped)
// JSON.
func decodeRelease(data []byte) (*release.Release, error) {
	b, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(b, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		if b, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	rel := &release.Release{}
	if err := json.Unmarshal(b, rel); err != nil {
		return nil, err
	}
	return rel, nil
}

// workload is a Deployment, StatefulSet, DaemonSet or Job of a release.
type workload struct {
	kind, namespace, name string
}

func (w workload) String() string { return fmt.Sprintf("%s %s/%s", w.kind, w.namespace, w.name) }

// workloadKinds are the kinds whose readiness is checked, by API version.
var workloadKinds = map[string]string{"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Job": "batch/v1"}

// workloadsOf lists the workloads in a release's manifest (hooks are not
// in it), in manifest order.
func workloadsOf(rel loadedRelease) []workload {
	objs, _ := manifest.ParseObjects(map[string]string{"manifest.yaml": rel.release.Manifest})
	var out []workload
	for _, o := range objs {
		if workloadKinds[o.Kind] != o.APIVersion || o.Name == "" {
			continue
		}
		out = append(out, workload{kind: o.Kind, namespace: orDefault(o.Namespace, rel.namespace), name: o.Name})
	}
	return out
}
