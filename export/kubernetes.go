package export

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/proctor-run/proctor/procfile"
)

// kubernetes: one multi-document YAML file, APP.yaml:
//
//   - a ConfigMap APP-env (a Secret with Options.Secret, as stringData) holding
//     the env files' variables, which every container takes with envFrom;
//   - per process type, a Deployment APP-TYPE with replicas from the
//     formation; its container runs /bin/sh -c COMMAND with PORT set to the
//     type's first port and PS taken from the pod name (downward API);
//   - for "web" and the types in Options.Expose, a containerPort and a
//     Service APP-TYPE on that port;
//   - for the release entry, a Job APP-release, not an init container: an
//     init container would run the release in every pod, at every restart
//     and concurrently across replicas, where a release (migrations) must
//     run once per deploy. Kubernetes cannot make Deployments wait for a
//     Job, so the Job runs beside the new pods; ttlSecondsAfterFinished
//     removes it after an hour so the next `kubectl apply` runs it again.
//
// Names are DNS-1123 labels made from the app and type names: lowercased,
// every character other than a-z and 0-9 (such as '_' and '.') turned into
// '-', '-' trimmed from both ends, at most 63 characters. Names must start
// with a letter, as Service names are DNS-1035 labels. Two process types
// that map to the same name are an error.
//
// Kubernetes expands $(VAR) in a container's command and reduces "$$" to
// "$", so every '$' of the command is written as "$$".

const (
	k8sNameLabel      = "app.kubernetes.io/name"
	k8sComponentLabel = "app.kubernetes.io/component"
	k8sManagedByLabel = "app.kubernetes.io/managed-by"
	// k8sJobTTL is how long a finished release Job is kept, in seconds.
	k8sJobTTL = 3600
	// k8sMaxName is the length limit of a DNS-1123 label.
	k8sMaxName = 63
)

type k8sMeta struct {
	Name   string            `yaml:"name,omitempty"`
	Labels map[string]string `yaml:"labels,omitempty"`
}

type k8sEnvSource struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   k8sMeta           `yaml:"metadata"`
	Type       string            `yaml:"type,omitempty"`
	Data       map[string]string `yaml:"data,omitempty"`
	StringData map[string]string `yaml:"stringData,omitempty"`
}

type k8sDeployment struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   k8sMeta           `yaml:"metadata"`
	Spec       k8sDeploymentSpec `yaml:"spec"`
}

type k8sDeploymentSpec struct {
	Replicas int            `yaml:"replicas"`
	Selector k8sSelector    `yaml:"selector"`
	Template k8sPodTemplate `yaml:"template"`
}

type k8sSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type k8sPodTemplate struct {
	Metadata k8sMeta    `yaml:"metadata"`
	Spec     k8sPodSpec `yaml:"spec"`
}

type k8sPodSpec struct {
	RestartPolicy                 string              `yaml:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds int                 `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *k8sSecurityContext `yaml:"securityContext,omitempty"`
	Containers                    []k8sContainer      `yaml:"containers"`
}

type k8sSecurityContext struct {
	RunAsUser int64 `yaml:"runAsUser"`
}

type k8sContainer struct {
	Name       string             `yaml:"name"`
	Image      string             `yaml:"image"`
	Command    []string           `yaml:"command"`
	WorkingDir string             `yaml:"workingDir,omitempty"`
	Env        []k8sEnvVar        `yaml:"env"`
	EnvFrom    []k8sEnvFrom       `yaml:"envFrom,omitempty"`
	Ports      []k8sContainerPort `yaml:"ports,omitempty"`
	// ReadinessProbe comes from .proctor's ready.
	ReadinessProbe *k8sProbe `yaml:"readinessProbe,omitempty"`
}

type k8sProbe struct {
	HTTPGet          *k8sHTTPGet   `yaml:"httpGet,omitempty"`
	TCPSocket        *k8sTCPSocket `yaml:"tcpSocket,omitempty"`
	Exec             *k8sExec      `yaml:"exec,omitempty"`
	PeriodSeconds    int           `yaml:"periodSeconds"`
	TimeoutSeconds   int           `yaml:"timeoutSeconds"`
	FailureThreshold int           `yaml:"failureThreshold"`
}

type k8sHTTPGet struct {
	Path string `yaml:"path"`
	Port int    `yaml:"port"`
}

type k8sTCPSocket struct {
	Host string `yaml:"host,omitempty"`
	Port int    `yaml:"port"`
}

type k8sExec struct {
	Command []string `yaml:"command"`
}

// k8sProbePeriod is how often a readiness probe made from a ready check
// runs; its failure threshold covers the check's ready_timeout.
const k8sProbePeriod = 2

// k8sReadiness makes a readiness probe of a ready check, for a container
// on port: every kind but log, which Kubernetes cannot watch for.
func k8sReadiness(r procfile.Readiness, port int, timeout time.Duration) *k8sProbe {
	p := &k8sProbe{PeriodSeconds: k8sProbePeriod, TimeoutSeconds: k8sProbePeriod, FailureThreshold: max(1, int((timeout+k8sProbePeriod*time.Second-1)/(k8sProbePeriod*time.Second)))}
	switch r.Kind {
	case procfile.ReadyPort:
		p.TCPSocket = &k8sTCPSocket{Port: port}
	case procfile.ReadyTCP:
		host, portText, _ := net.SplitHostPort(r.Arg)
		n, _ := strconv.Atoi(portText) // procfile.ParseReadiness checked it
		if host == "127.0.0.1" || host == "localhost" || host == "::1" {
			host = "" // the pod's own address
		}
		p.TCPSocket = &k8sTCPSocket{Host: host, Port: n}
	case procfile.ReadyHTTP:
		p.HTTPGet = &k8sHTTPGet{Path: r.Arg, Port: port}
	case procfile.ReadyExec:
		p.Exec = &k8sExec{Command: []string{"/bin/sh", "-c", r.Arg}}
	default:
		return nil
	}
	return p
}

type k8sEnvVar struct {
	Name      string        `yaml:"name"`
	Value     string        `yaml:"value,omitempty"`
	ValueFrom *k8sValueFrom `yaml:"valueFrom,omitempty"`
}

type k8sValueFrom struct {
	FieldRef k8sFieldRef `yaml:"fieldRef"`
}

type k8sFieldRef struct {
	FieldPath string `yaml:"fieldPath"`
}

type k8sEnvFrom struct {
	ConfigMapRef *k8sRef `yaml:"configMapRef,omitempty"`
	SecretRef    *k8sRef `yaml:"secretRef,omitempty"`
}

type k8sRef struct {
	Name string `yaml:"name"`
}

type k8sContainerPort struct {
	ContainerPort int    `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

type k8sService struct {
	APIVersion string         `yaml:"apiVersion"`
	Kind       string         `yaml:"kind"`
	Metadata   k8sMeta        `yaml:"metadata"`
	Spec       k8sServiceSpec `yaml:"spec"`
}

type k8sServiceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []k8sServicePort  `yaml:"ports"`
}

type k8sServicePort struct {
	Port       int    `yaml:"port"`
	TargetPort int    `yaml:"targetPort"`
	Protocol   string `yaml:"protocol"`
}

type k8sJob struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   k8sMeta    `yaml:"metadata"`
	Spec       k8sJobSpec `yaml:"spec"`
}

type k8sJobSpec struct {
	BackoffLimit            int            `yaml:"backoffLimit"`
	TTLSecondsAfterFinished int            `yaml:"ttlSecondsAfterFinished"`
	Template                k8sPodTemplate `yaml:"template"`
}

// noDNSName is the problem of a name with no letter or digit.
const noDNSName = "leaves nothing of a DNS-1123 name (letters and digits)"

// dnsLabel turns s into a DNS-1123 label by the rule in this file's
// comment; what names s in the error when nothing is left.
func dnsLabel(format, what, s string) (string, error) {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			b[i] = '-'
		}
	}
	out := strings.Trim(string(b), "-")
	if len(out) > k8sMaxName {
		out = strings.TrimRight(out[:k8sMaxName], "-")
	}
	if out == "" {
		return "", &Error{Format: format, What: what, Problem: noDNSName}
	}
	return out, nil
}

// k8sNames are the names of an app's objects.
type k8sNames struct {
	app    string            // label value of the app
	env    string            // the ConfigMap or Secret
	object map[string]string // process type -> Deployment, Service or Job
	label  map[string]string // process type -> component label and container name
}

func kubernetesNames(d *Data) (*k8sNames, error) {
	app, err := dnsLabel(Kubernetes, fmt.Sprintf("app name %q", d.App), d.App)
	if err != nil {
		return nil, optionError(Kubernetes, OptionApp, d.App, true, noDNSName)
	}
	if app[0] < 'a' || app[0] > 'z' {
		return nil, optionError(Kubernetes, OptionApp, d.App, true, "must start with a letter: Kubernetes Service names are DNS-1035 labels")
	}
	n := &k8sNames{app: app, object: map[string]string{}, label: map[string]string{}}
	n.env, _ = dnsLabel(Kubernetes, "", app+"-env")
	seen := map[string]string{}
	for _, t := range d.Types {
		what := fmt.Sprintf("process type %q", t.Name)
		label, err := dnsLabel(Kubernetes, what, t.Name)
		if err != nil {
			return nil, err
		}
		object, _ := dnsLabel(Kubernetes, what, app+"-"+label)
		if other, dup := seen[object]; dup {
			return nil, &Error{Format: Kubernetes, What: what, Problem: fmt.Sprintf("and %q both become the Kubernetes name %q: rename one in the Procfile", other, object)}
		}
		seen[object] = t.Name
		n.object[t.Name], n.label[t.Name] = object, label
	}
	if other, dup := seen[n.env]; dup {
		return nil, &Error{Format: Kubernetes, What: fmt.Sprintf("process type %q", other), Problem: fmt.Sprintf("becomes %q, the name of the env ConfigMap: rename it in the Procfile", n.env)}
	}
	return n, nil
}

// k8sUser returns the numeric user id the pods run as, or -1 for the
// image's user. root is uid 0 on every system, so it is taken by name;
// other names have no uid the cluster could know.
func k8sUser(d *Data) (int64, error) {
	switch d.User {
	case "":
		return -1, nil
	case "root":
		return 0, nil
	}
	uid, err := strconv.ParseInt(d.User, 10, 64)
	if err != nil || uid < 0 {
		return 0, &Error{Format: Kubernetes, What: fmt.Sprintf("user %q", d.User), Problem: "is not a numeric user id (or root), which Kubernetes needs (runAsUser)"}
	}
	return uid, nil
}

func checkKubernetes(d *Data) error {
	if _, err := kubernetesNames(d); err != nil {
		return err
	}
	_, err := k8sUser(d)
	return err
}

// kubernetesObjects returns the objects of d in the order to apply them:
// the env ConfigMap or Secret, then per type a Job or a Deployment and its
// Service.
func kubernetesObjects(d *Data) ([]any, error) {
	names, err := kubernetesNames(d)
	if err != nil {
		return nil, err
	}
	uid, err := k8sUser(d)
	if err != nil {
		return nil, err
	}
	var objs []any
	var envFrom []k8sEnvFrom
	if len(d.Env) > 0 {
		vars := make(map[string]string, len(d.Env))
		for _, v := range d.Env {
			vars[v.Name] = v.Value
		}
		src := k8sEnvSource{APIVersion: "v1", Kind: "ConfigMap", Metadata: k8sMeta{Name: names.env, Labels: k8sLabels(names.app, "")}, Data: vars}
		ref := &k8sRef{Name: names.env}
		envFrom = []k8sEnvFrom{{ConfigMapRef: ref}}
		if d.Secret {
			src.Kind, src.Type, src.Data, src.StringData = "Secret", "Opaque", nil, vars
			envFrom = []k8sEnvFrom{{SecretRef: ref}}
		}
		objs = append(objs, src)
	}
	for _, t := range d.Types {
		labels := k8sLabels(names.app, names.label[t.Name])
		c := k8sContainer{
			Name:       names.label[t.Name],
			Image:      d.Image,
			Command:    []string{"/bin/sh", "-c", strings.ReplaceAll(t.Command, "$", "$$")},
			WorkingDir: d.WorkDir,
			Env: []k8sEnvVar{
				{Name: "PORT", Value: strconv.Itoa(t.Port)},
				{Name: "PS", ValueFrom: &k8sValueFrom{FieldRef: k8sFieldRef{FieldPath: "metadata.name"}}},
			},
			EnvFrom: envFrom,
		}
		if t.Exposed && !t.Release {
			c.Ports = []k8sContainerPort{{ContainerPort: t.Port, Protocol: "TCP"}}
		}
		first := t.Instances[0]
		c.ReadinessProbe = k8sReadiness(first.Ready, t.Port, first.ReadyTimeout)
		// What a type's own env_file adds to the shared variables.
		for _, v := range first.Env {
			if v.Name != "PORT" && v.Name != "PS" && !slices.Contains(d.Env, v) {
				c.Env = append(c.Env, k8sEnvVar{Name: v.Name, Value: strings.ReplaceAll(v.Value, "$", "$$")}) // $(VAR) is Kubernetes' reference
			}
		}
		pod := k8sPodSpec{TerminationGracePeriodSeconds: d.Timeout, Containers: []k8sContainer{c}}
		if uid >= 0 {
			pod.SecurityContext = &k8sSecurityContext{RunAsUser: uid}
		}
		meta := k8sMeta{Name: names.object[t.Name], Labels: labels}
		if t.Release {
			pod.RestartPolicy = "Never"
			objs = append(objs, k8sJob{APIVersion: "batch/v1", Kind: "Job", Metadata: meta, Spec: k8sJobSpec{
				BackoffLimit:            0,
				TTLSecondsAfterFinished: k8sJobTTL,
				Template:                k8sPodTemplate{Metadata: k8sMeta{Labels: labels}, Spec: pod},
			}})
			continue
		}
		objs = append(objs, k8sDeployment{APIVersion: "apps/v1", Kind: "Deployment", Metadata: meta, Spec: k8sDeploymentSpec{
			Replicas: t.Count,
			Selector: k8sSelector{MatchLabels: k8sSelectorLabels(names.app, names.label[t.Name])},
			Template: k8sPodTemplate{Metadata: k8sMeta{Labels: labels}, Spec: pod},
		}})
		if t.Exposed {
			objs = append(objs, k8sService{APIVersion: "v1", Kind: "Service", Metadata: meta, Spec: k8sServiceSpec{
				Selector: k8sSelectorLabels(names.app, names.label[t.Name]),
				Ports:    []k8sServicePort{{Port: t.Port, TargetPort: t.Port, Protocol: "TCP"}},
			}})
		}
	}
	return objs, nil
}

func k8sSelectorLabels(app, component string) map[string]string {
	return map[string]string{k8sNameLabel: app, k8sComponentLabel: component}
}

func k8sLabels(app, component string) map[string]string {
	l := map[string]string{k8sNameLabel: app, k8sManagedByLabel: "proctor"}
	if component != "" {
		l[k8sComponentLabel] = component
	}
	return l
}

func renderKubernetes(d *Data, t *templates) ([]File, error) {
	b, err := t.execute("kubernetes.yaml.tmpl", d)
	if err != nil {
		return nil, err
	}
	return []File{{Path: d.App + ".yaml", Data: b, Mode: 0o600}}, nil
}
