package scale

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// manifests are the objects of a YAML file of Kubernetes manifests,
// decoded strictly: a field the Kubernetes API does not have is an
// error, as kubectl apply --validate=strict makes it.
type manifests struct {
	jobs       []*batchv1.Job
	configMaps []*corev1.ConfigMap
	claims     []*corev1.PersistentVolumeClaim
}

// decodeManifests decodes every document of data (separated by "---"
// lines) as the type its kind names.
func decodeManifests(data []byte) (manifests, error) {
	var m manifests
	docs := regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1)
	for i, doc := range docs {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return m, fmt.Errorf("document %d: %v", i+1, err)
		}
		var obj any
		want := "v1"
		switch head.Kind {
		case "Job":
			j := new(batchv1.Job)
			m.jobs, obj, want = append(m.jobs, j), j, "batch/v1"
		case "ConfigMap":
			c := new(corev1.ConfigMap)
			m.configMaps, obj = append(m.configMaps, c), c
		case "PersistentVolumeClaim":
			c := new(corev1.PersistentVolumeClaim)
			m.claims, obj = append(m.claims, c), c
		default:
			return m, fmt.Errorf("document %d: kind %q is not one the tests know", i+1, head.Kind)
		}
		if head.APIVersion != want {
			return m, fmt.Errorf("document %d: %s of apiVersion %q, want %q", i+1, head.Kind, head.APIVersion, want)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return m, fmt.Errorf("document %d (%s): %v", i+1, head.Kind, err)
		}
		// sigs.k8s.io/yaml decodes with encoding/json, which matches
		// field names in any case: "completionmode" passes, and the API
		// server, whose decoder is case-sensitive, refuses it. Decode
		// the JSON again as the API server does.
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return m, fmt.Errorf("document %d (%s): %v", i+1, head.Kind, err)
		}
		strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err == nil && len(strict) > 0 {
			err = errors.Join(strict...)
		}
		if err != nil {
			return m, fmt.Errorf("document %d (%s): %v", i+1, head.Kind, err)
		}
	}
	return m, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func readManifests(t testing.TB, name string) manifests {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeManifests(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestDecodeManifestsStrict checks that the decoding the tests rely on
// refuses what Kubernetes would: a misspelt field, a field of the wrong
// type, a kind of the wrong API group.
func TestDecodeManifestsStrict(t *testing.T) {
	const job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n"
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"valid", job + "  completionMode: Indexed\n  completions: 2\n", true},
		{"misspelt field", job + "  completionmode: Indexed\n", false},
		{"field of another object", job + "  restartPolicy: Never\n", false},
		{"wrong type", job + "  completions: two\n", false},
		{"duplicate field", job + "  completions: 2\n  completions: 3\n", false},
		{"wrong apiVersion", "apiVersion: v1\nkind: Job\n", false},
		{"unknown kind", "apiVersion: v1\nkind: Secret\n", false},
		{"second document bad", job + "---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\nbinaryData: 3\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeManifests([]byte(tc.doc))
			if (err == nil) != tc.ok {
				t.Errorf("decodeManifests = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// scanJob is the scan Job of k8s-job.yaml and what the tests need of it.
type scanJob struct {
	job        *batchv1.Job
	container  corev1.Container
	shards     int
	dataMount  string // where the volume claim is mounted
	listMount  string // where the targets ConfigMap is mounted
	targetsKey string // the ConfigMap key -iL reads
}

// indexVar is how the Job's args name the completion index, which
// Kubernetes expands from the container's environment.
const indexVar = "$(JOB_COMPLETION_INDEX)"

// checkScanJob checks what k8s-job.yaml must get right for a sharded,
// resumable scan, and returns its parts.
func checkScanJob(t testing.TB, m manifests) scanJob {
	t.Helper()
	if len(m.jobs) != 1 || len(m.configMaps) != 1 || len(m.claims) != 1 {
		t.Fatalf("k8s-job.yaml: %d Jobs, %d ConfigMaps, %d PersistentVolumeClaims; want one of each", len(m.jobs), len(m.configMaps), len(m.claims))
	}
	j := scanJob{job: m.jobs[0]}
	spec := j.job.Spec
	pod := spec.Template.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %s, want Indexed", deref(spec.CompletionMode))
	}
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
		t.Fatalf("%d containers and %d init containers, want one container", len(pod.Containers), len(pod.InitContainers))
	}
	j.container = pod.Containers[0]
	c := j.container
	if got := strings.Join(c.Command, " "); got != "/portscan" {
		t.Errorf("command %q, want the image's /portscan", c.Command)
	}
	joined := strings.Join(c.Args, " ")
	n, _, err := shardsOf(podCommand(c, 0, nil, "/portscan")[1:])
	if err != nil {
		t.Fatalf("args %q: %v", c.Args, err)
	}
	j.shards = n
	if n < 2 || !strings.Contains(joined, "--shard-index "+indexVar) {
		t.Errorf("args %q: want --shards N (N > 1) and --shard-index %s", c.Args, indexVar)
	}
	if spec.Completions == nil || int(*spec.Completions) != n {
		t.Errorf("completions %s, want the --shards value %d", deref(spec.Completions), n)
	}
	if spec.Parallelism == nil || *spec.Parallelism < 1 || int(*spec.Parallelism) > n {
		t.Errorf("parallelism %s, want 1 to %d", deref(spec.Parallelism), n)
	}
	cl, _ := parseCmdline(c.Args, scanFlags)
	if len(cl.values("--seed")) != 1 {
		t.Errorf("args %q: want one --seed, which a sharded scan needs", c.Args)
	}
	// Kubernetes expands $(VAR) from the container's environment: the
	// index must be there, from the annotation the Job controller sets.
	var indexEnv bool
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			indexEnv = true
		}
	}
	if !indexEnv {
		t.Errorf("env: no JOB_COMPLETION_INDEX from the job-completion-index annotation")
	}
	if rest := strings.ReplaceAll(joined, indexVar, ""); strings.Contains(rest, "$(") {
		t.Errorf("args %q: a $(...) the tests do not expand", c.Args)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (a podFailurePolicy needs it)", pod.RestartPolicy)
	}
	if spec.BackoffLimitPerIndex == nil {
		t.Errorf("no backoffLimitPerIndex: one failing shard would use up the others' retries")
	}
	var ignoresDisruption bool
	if spec.PodFailurePolicy != nil {
		for _, r := range spec.PodFailurePolicy.Rules {
			for _, p := range r.OnPodConditions {
				if p.Type == corev1.DisruptionTarget && r.Action == batchv1.PodFailurePolicyActionIgnore {
					ignoresDisruption = true
				}
			}
		}
	}
	if !ignoresDisruption {
		t.Errorf("podFailurePolicy: no rule that ignores a DisruptionTarget (an evicted pod must not count as a failure)")
	}

	// Volumes: the outputs and the state on the claim, the targets from
	// the ConfigMap.
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	mountOf := func(path string) (corev1.VolumeMount, corev1.Volume, bool) {
		for _, vm := range c.VolumeMounts {
			if strings.HasPrefix(path, vm.MountPath+"/") {
				return vm, vols[vm.Name], true
			}
		}
		return corev1.VolumeMount{}, corev1.Volume{}, false
	}
	for _, flag := range [][]string{{"--resume"}, {"-o", "--output"}} {
		vals := cl.values(flag...)
		if len(vals) != 1 {
			t.Errorf("args: %d %s, want 1", len(vals), flag[0])
			continue
		}
		vm, v, ok := mountOf(vals[0])
		if !ok || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != m.claims[0].Name || vm.ReadOnly {
			t.Errorf("%s %s: not on a writable mount of the claim %s", flag[0], vals[0], m.claims[0].Name)
		}
		if !strings.Contains(vals[0], indexVar) {
			t.Errorf("%s %s: the same file for every index; want %s in it", flag[0], vals[0], indexVar)
		}
		j.dataMount = vm.MountPath
	}
	lists := cl.values("-iL", "--input-list")
	if len(lists) != 1 {
		t.Fatalf("args: %d -iL, want 1", len(lists))
	}
	vm, v, ok := mountOf(lists[0])
	if !ok || v.ConfigMap == nil || v.ConfigMap.Name != m.configMaps[0].Name {
		t.Fatalf("-iL %s: not in the ConfigMap %s", lists[0], m.configMaps[0].Name)
	}
	j.listMount, j.targetsKey = vm.MountPath, strings.TrimPrefix(lists[0], vm.MountPath+"/")
	if _, ok := m.configMaps[0].Data[j.targetsKey]; !ok {
		t.Errorf("ConfigMap %s has no key %s for -iL %s", m.configMaps[0].Name, j.targetsKey, lists[0])
	}
	if len(cl.rest) > 0 {
		t.Errorf("args %q name targets of their own; they belong in the ConfigMap", cl.rest)
	}

	// The pod runs as the image's user, with nothing it does not need.
	sc, csc := pod.SecurityContext, c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != uid || sc.FSGroup == nil {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, runAsUser %d and an fsGroup", sc, uid)
	}
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation || csc.Capabilities == nil ||
		len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" || len(csc.Capabilities.Add) != 0 {
		t.Errorf("container securityContext %+v: want no privilege escalation and every capability dropped", csc)
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 5 {
		t.Errorf("terminationGracePeriodSeconds %s: want time to write the state after SIGTERM", deref(pod.TerminationGracePeriodSeconds))
	}
	return j
}

// deref prints what an optional field of the API holds, or "unset".
func deref[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// checkMergeJob checks that the merge Job reads every part the scan Job
// writes, from the same claim, and returns its container.
func checkMergeJob(t testing.TB, m manifests, scan scanJob) corev1.Container {
	t.Helper()
	if len(m.jobs) != 1 || len(m.configMaps)+len(m.claims) != 0 {
		t.Fatalf("k8s-merge-job.yaml: want one Job alone")
	}
	pod := m.jobs[0].Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("merge Job: %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if strings.Join(c.Command, " ") != "/portscan" || len(c.Args) == 0 || c.Args[0] != "merge" {
		t.Fatalf("merge Job: command %q args %q, want /portscan merge ...", c.Command, c.Args)
	}
	cl, err := parseCmdline(c.Args[1:], mergeFlags)
	if err != nil {
		t.Fatalf("merge Job args %q: %v", c.Args, err)
	}
	scanCl, _ := parseCmdline(scan.container.Args, scanFlags)
	part := scanCl.values("-o", "--output")[0]
	var want []string
	for k := range scan.shards {
		want = append(want, strings.ReplaceAll(part, indexVar, strconv.Itoa(k)))
	}
	if strings.Join(cl.rest, " ") != strings.Join(want, " ") {
		t.Errorf("merge Job reads %q, want every part of the scan Job: %q", cl.rest, want)
	}
	var claim string
	for _, vm := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == vm.Name && v.PersistentVolumeClaim != nil && vm.MountPath == scan.dataMount {
				claim = v.PersistentVolumeClaim.ClaimName
			}
		}
	}
	for _, v := range scan.job.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != claim {
			t.Errorf("merge Job mounts claim %q at %s, want the scan Job's %q", claim, scan.dataMount, v.PersistentVolumeClaim.ClaimName)
		}
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("merge Job restartPolicy %q", pod.RestartPolicy)
	}
	return c
}

// containerfileUser returns the numeric uid of the Containerfile's USER.
func containerfileUser(t testing.TB) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER\s+([0-9]+)(:[0-9]+)?\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("Containerfile: no numeric USER line")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestKubernetesManifests decodes k8s-job.yaml and k8s-merge-job.yaml
// strictly as the Kubernetes types they are and checks what a sharded,
// resumable scan needs of them.
func TestKubernetesManifests(t *testing.T) {
	scan := checkScanJob(t, readManifests(t, "k8s-job.yaml"))
	checkMergeJob(t, readManifests(t, "k8s-merge-job.yaml"), scan)
	if u := containerfileUser(t); u != uid {
		t.Errorf("Containerfile USER %d, the manifests' runAsUser %d", u, uid)
	}
}

// podCommand is the command line of index k's pod: the container's
// command and args with $(JOB_COMPLETION_INDEX) expanded, each mount
// path mapped to a directory of the test and the command to bin.
func podCommand(c corev1.Container, k int, mounts map[string]string, bin string) []string {
	argv := append(append([]string{}, c.Command...), c.Args...)
	for i, a := range argv {
		a = strings.ReplaceAll(a, indexVar, strconv.Itoa(k))
		for from, to := range mounts {
			if a == from || strings.HasPrefix(a, from+"/") {
				a = to + strings.TrimPrefix(a, from)
			}
		}
		argv[i] = a
	}
	argv[0] = bin
	return argv
}

// TestKubernetesJobLab runs the Indexed Job as Kubernetes would, each
// index's pod a process, against a lab: the targets file is the lab's,
// the volume claim and the ConfigMap are directories of the test, the
// processes run as the pods' user without capabilities. One pod is
// stopped with SIGTERM as an evicted pod is, and its replacement, the
// same command, resumes it; a pod run again for a finished index
// changes nothing. The merge Job's report must then say what a single
// run of the same scan says.
func TestKubernetesJobLab(t *testing.T) {
	requireLab(t)
	scan := checkScanJob(t, readManifests(t, "k8s-job.yaml"))
	merge := checkMergeJob(t, readManifests(t, "k8s-merge-job.yaml"), scan)
	bin := portscanBin(t)
	requireMerge(t, bin)
	l := newLab(t)
	data, etc := openDir(t, true), openDir(t, false)
	targets := filepath.Join(etc, scan.targetsKey)
	if err := os.WriteFile(targets, []byte(labTargets), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{scan.dataMount: data, scan.listMount: etc}
	pod := func(k int) *exec.Cmd {
		argv := podCommand(scan.container, k, mounts, bin)
		if err := checkScan(argv[1:], etc, targets); err != nil {
			t.Fatalf("index %d: %q: %v", k, argv, err)
		}
		return asUser(l.scanner, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(k)}, argv...)
	}
	flag := func(k int, names ...string) string {
		cl, _ := parseCmdline(podCommand(scan.container, k, mounts, bin)[1:], scanFlags)
		return cl.values(names...)[0]
	}
	part := func(k int) string { return flag(k, "-o", "--output") }
	state := func(k int) string { return flag(k, "--resume") }

	// Index 0's first pod is evicted: SIGTERM once it has written a
	// result, as the kubelet sends it before killing the pod.
	code, out := evict(t, pod(0), part(0), syscall.SIGTERM)
	switch code {
	case 0:
		t.Logf("index 0 finished before SIGTERM reached it; its rerun below only checks the done state")
	case 1, 2:
		t.Fatalf("index 0, SIGTERM: exit %d, want the status of an interrupted scan:\n%s", code, out)
	default:
		t.Logf("index 0 stopped by SIGTERM: exit %d, %d lines written", code, lines(part(0)))
		if stateDone(t, state(0)) {
			t.Errorf("index 0 stopped by SIGTERM, and its state says done")
		}
	}

	// The Job's pods, parallelism at a time; index 0's replacement
	// among them.
	par := int(*scan.job.Spec.Parallelism)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for k := range scan.shards {
		cmd := pod(k)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("index %d: %v:\n%s", k, err, out)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// A pod started again for a finished index (a Job retried by hand,
	// a node lost after the pod succeeded) exits 0 and adds nothing.
	before, _ := os.ReadFile(part(1))
	if code, out := exitCode(t, pod(1)); code != 0 {
		t.Errorf("index 1 again: exit %d:\n%s", code, out)
	}
	if after, _ := os.ReadFile(part(1)); !bytes.Equal(before, after) {
		t.Errorf("index 1 again changed its part file: %d bytes, then %d", len(before), len(after))
	}
	for k := range scan.shards {
		if !stateDone(t, state(k)) {
			t.Errorf("index %d finished, and its state %s is not marked done", k, state(k))
		}
	}
	checkParts(t, scan.shards, part)

	mergeArgv := podCommand(merge, 0, mounts, bin)
	if code, out := exitCode(t, asUser(l.scanner, nil, mergeArgv...)); code != 0 {
		t.Fatalf("merge Job %q: exit %d:\n%s", mergeArgv, code, out)
	}
	mcl, _ := parseCmdline(mergeArgv[2:], mergeFlags)
	merged := readReport(t, mcl.values("-o", "--output")[0])

	single := filepath.Join(data, "single.jsonl")
	singleArgv, err := unsharded(podCommand(scan.container, 0, mounts, bin)[1:], single)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := exitCode(t, asUser(l.scanner, nil, append([]string{bin}, singleArgv...)...)); code != 0 {
		t.Fatalf("single run %q: exit %d:\n%s", singleArgv, code, out)
	}
	whole := readReport(t, single)
	checkLabReport(t, whole, false) // the pods' user, no capability
	if d := whole.diff(merged); d != "" {
		t.Errorf("the merged report differs from a single run of the scan:\n%s", d)
	}
}

// evict starts cmd, sends it sig once the file out has a line past the
// scan line (unless it ends first), and returns its exit status and
// output.
func evict(t testing.TB, cmd *exec.Cmd, out string, sig os.Signal) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return exitStatus(t, cmd, err), buf.String()
		case <-tick.C:
			if lines(out) >= 2 {
				_ = cmd.Process.Signal(sig)
				return exitStatus(t, cmd, <-done), buf.String()
			}
		}
	}
}

func exitStatus(t testing.TB, cmd *exec.Cmd, err error) int {
	t.Helper()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return cmd.ProcessState.ExitCode()
}

// checkParts checks the parts of a sharded scan: each whole, of the
// same scan, each saying which shard it is.
func checkParts(t testing.TB, n int, part func(k int) string) {
	t.Helper()
	var fingerprint string
	for k := range n {
		scans, err := scanLines(part(k))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, s := range scans {
			if s.Shard == nil || s.Shard.Index != k || s.Shard.Count != n {
				t.Errorf("%s: scan line says shard %+v, want index %d of %d", part(k), s.Shard, k, n)
			}
			if s.Fingerprint == "" || fingerprint != "" && s.Fingerprint != fingerprint {
				t.Errorf("%s: fingerprint %q, want one shared by every part (%q)", part(k), s.Fingerprint, fingerprint)
			}
			fingerprint = s.Fingerprint
		}
		if len(scans) == 0 {
			t.Errorf("%s: no scan line", part(k))
		}
	}
}
