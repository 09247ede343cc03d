package verify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// ContainerRef names a container of a pod on a cluster.
type ContainerRef struct {
	// Cluster is the cluster's name, as log lines are prefixed with it.
	Cluster   string
	Namespace string
	Pod       string
	Container string
}

// LogOptions select the part of a container's log to read.
type LogOptions struct {
	// Follow keeps the stream open for new lines.
	Follow bool
	// Previous reads the log of the container's previous run (after a
	// restart).
	Previous bool
	// TailLines keeps only the last lines; 0 reads everything.
	TailLines int
	// Since keeps only the lines newer than this; 0 reads everything.
	Since time.Duration
}

// LogSource reads container logs. The usual one is the API server's pod
// log endpoint; tests supply their own, since a test API server has no
// kubelet to serve logs.
type LogSource interface {
	Logs(ctx context.Context, ref ContainerRef, opts LogOptions) (io.ReadCloser, error)
}

// LogLine is one line of a container's log.
type LogLine struct {
	Cluster   string `json:"cluster"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Text      string `json:"text"`
}

// String is the line prefixed with where it comes from, as stern prints
// it: "cluster/pod/container text".
func (l LogLine) String() string {
	return fmt.Sprintf("%s/%s/%s %s", l.Cluster, l.Pod, l.Container, l.Text)
}

// apiLogs reads logs from the API server, which asks the pod's kubelet.
type apiLogs struct {
	core corev1client.CoreV1Interface
}

func (a apiLogs) Logs(ctx context.Context, ref ContainerRef, opts LogOptions) (io.ReadCloser, error) {
	po := &corev1.PodLogOptions{Container: ref.Container, Follow: opts.Follow, Previous: opts.Previous}
	if opts.TailLines > 0 {
		n := int64(opts.TailLines)
		po.TailLines = &n
	}
	if opts.Since > 0 {
		s := int64((opts.Since + time.Second - 1) / time.Second)
		po.SinceSeconds = &s
	}
	return a.core.Pods(ref.Namespace).GetLogs(ref.Pod, po).Stream(ctx)
}

// conn is one cluster's APIs.
type conn struct {
	// cluster names the cluster in results: "" for the host release's
	// checks, the cluster's name for an agent's.
	cluster string
	// logName names the cluster in log lines.
	logName string
	// client reads KubeSphere's kinds as the cluster commands do.
	client *cluster.Client
	core   corev1client.CoreV1Interface
	apps   appsv1client.AppsV1Interface
	batch  batchv1client.BatchV1Interface
	logs   LogSource
}

func newConn(cfg *rest.Config, name, logName string, logs LogSource) (*conn, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ksbuilder"
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := appsv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	batch, err := batchv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	client, err := cluster.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if logs == nil {
		logs = apiLogs{core: core}
	}
	return &conn{cluster: name, logName: logName, client: client, core: core, apps: apps, batch: batch, logs: logs}, nil
}

// on is the same connection, naming an agent's cluster in results.
func (c *conn) on(cluster string) *conn {
	cp := *c
	cp.cluster, cp.logName = cluster, cluster
	return &cp
}

// tail reads the last lines of a container's log.
func (c *conn) tail(ctx context.Context, ns, pod, container string, lines int, previous bool) ([]LogLine, error) {
	ref := ContainerRef{Cluster: c.logName, Namespace: ns, Pod: pod, Container: container}
	var out []LogLine
	err := stream(ctx, c.logs, ref, LogOptions{TailLines: lines, Previous: previous}, func(l LogLine) { out = append(out, l) })
	if len(out) > lines {
		out = out[len(out)-lines:]
	}
	return out, err
}

// stream reads a container's log line by line.
func stream(ctx context.Context, src LogSource, ref ContainerRef, opts LogOptions, emit func(LogLine)) error {
	rc, err := src.Logs(ctx, ref, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		emit(LogLine{Cluster: ref.Cluster, Pod: ref.Pod, Container: ref.Container, Text: strings.TrimRight(sc.Text(), "\r")})
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// LogsOptions say whose logs "ksbuilder logs" reads.
type LogsOptions struct {
	// Name is the extension.
	Name string
	// Cluster selects the agent release on that cluster; "" the host
	// release.
	Cluster string
	// Follow streams new lines until ctx ends.
	Follow bool
	// Since keeps only newer lines; 0 reads everything.
	Since time.Duration
	// Logs reads container logs; nil reads them from the API server.
	Logs LogSource
	// Member connects to a member cluster (see Options.Member).
	Member func(ctx context.Context, cluster string) (*rest.Config, error)
	// Gateway, when set, reaches a member Member does not through
	// KubeSphere's multicluster proxy.
	Gateway *Gateway
	// OnLine receives each line; calls are never concurrent.
	OnLine func(LogLine)
	// OnProblem receives what could not be read (a container whose log
	// cannot be fetched); the other logs are still read.
	OnProblem func(string)
}

// Logs reads the logs of the extension's pods (those of the release's
// workloads) and of its last executor job's pods, line by line, through
// opts.OnLine; a container whose log cannot be read goes to
// opts.OnProblem, and when none can be read that is the error. With Follow
// it returns when ctx ends (with its error) or every stream has ended.
func Logs(ctx context.Context, c *cluster.Client, opts LogsOptions) error {
	plan, err := c.Plan(ctx, opts.Name)
	if err != nil {
		return err
	}
	hostName, err := c.HostCluster(ctx)
	if err != nil {
		return err
	}
	host, err := newConn(c.RESTConfig(), "", orDefault(hostName, "host"), opts.Logs)
	if err != nil {
		return err
	}
	ref := releaseRef{conn: host, name: releaseName(plan), namespace: plan.Status.TargetNamespace}
	job := plan.Status.JobName
	if opts.Cluster != "" {
		st, ok := plan.Status.ClusterSchedulingStatuses[opts.Cluster]
		if !ok {
			return fmt.Errorf("%s has no agent on cluster %s (agents: %s)", opts.Name, opts.Cluster, orDefault(strings.Join(sortedClusters(plan), ", "), "none"))
		}
		ref.name = orDefault(st.ReleaseName, opts.Name+"-agent")
		ref.namespace = orDefault(st.TargetNamespace, plan.Status.TargetNamespace)
		job = st.JobName
		if opts.Cluster == hostName {
			ref.conn = host.on(opts.Cluster)
		} else {
			var gatewayCfg *rest.Config
			if opts.Gateway != nil {
				if gatewayCfg, err = GatewayConfig(c.RESTConfig(), *opts.Gateway); err != nil {
					return err
				}
			}
			member, why := connectMember(ctx, memberRoutes(opts.Member, gatewayCfg), opts.Logs, opts.Cluster)
			if member == nil {
				return fmt.Errorf("cannot read the logs of the agent on cluster %s: %s", opts.Cluster, why)
			}
			ref.conn = member
		}
	}
	var targets []ContainerRef
	var conns []*conn
	problem := func(msg string) {
		if opts.OnProblem != nil {
			opts.OnProblem(msg)
		}
	}
	var skipped []string
	// add reads the logs of a pod's containers; a pod on no node has none
	// (the API server answers with an empty log).
	add := func(cn *conn, p *corev1.Pod) {
		if p.Spec.NodeName == "" {
			msg := fmt.Sprintf("%s/%s is %s and has not been scheduled to a node, so it has no logs", cn.logName, p.Name, orDefault(string(p.Status.Phase), "Pending"))
			skipped = append(skipped, msg)
			problem(msg)
			return
		}
		for _, name := range cluster.ContainerNames(p) {
			targets = append(targets, ContainerRef{Cluster: cn.logName, Namespace: p.Namespace, Pod: p.Name, Container: name})
			conns = append(conns, cn)
		}
	}
	rel, err := readRelease(ctx, ref.conn.core, ref.namespace, ref.name)
	if err != nil {
		problem(err.Error())
	} else {
		for _, w := range workloadsOf(loadedRelease{releaseRef: ref, release: rel}) {
			pods, err := ref.conn.workloadPods(ctx, w)
			if err != nil {
				problem(fmt.Sprintf("%s: %v", w, err))
				continue
			}
			for _, p := range pods {
				add(ref.conn, &p)
			}
		}
	}
	if job != "" && plan.Status.TargetNamespace != "" {
		// Executor jobs, agents' included, run on the host.
		pods, err := host.core.Pods(plan.Status.TargetNamespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
		if err != nil {
			problem(fmt.Sprintf("executor job %s: %v", job, err))
		} else {
			for _, p := range pods.Items {
				add(host, &p)
			}
		}
	}
	if len(targets) == 0 {
		if len(skipped) > 0 {
			return fmt.Errorf("no logs to read for %s: %s", opts.Name, strings.Join(skipped, "; "))
		}
		return fmt.Errorf("%s has no pods to read logs from (no workload pods of release %s in namespace %s, no executor job pods)", opts.Name, ref.name, ref.namespace)
	}
	lopts := LogOptions{Follow: opts.Follow, Since: opts.Since}
	var mu sync.Mutex
	emit := func(l LogLine) {
		mu.Lock()
		defer mu.Unlock()
		if opts.OnLine != nil {
			opts.OnLine(l)
		}
	}
	failed := 0
	read := func(i int) {
		if err := stream(ctx, conns[i].logs, targets[i], lopts, emit); err != nil {
			mu.Lock()
			failed++
			problem(fmt.Sprintf("%s/%s/%s: %s", targets[i].Cluster, targets[i].Pod, targets[i].Container, cluster.LogError(err)))
			mu.Unlock()
		}
	}
	if opts.Follow {
		var wg sync.WaitGroup
		for i := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				read(i)
			}()
		}
		wg.Wait()
	} else {
		for i := range targets {
			read(i)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed == len(targets) {
		return fmt.Errorf("none of the %d containers' logs of %s could be read", failed, opts.Name)
	}
	return nil
}
