package export

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/proctor-run/proctor/env"
)

// k8sObjects decodes every document of a multi-document export strictly
// into its Kubernetes API type: an unknown or misspelt field fails.
func k8sObjects(t *testing.T, data []byte) []any {
	t.Helper()
	var objs []any
	for i, doc := range strings.Split(string(data), "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		default:
			t.Fatalf("document %d: unexpected kind %q %q", i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i, tm.Kind, err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

func checkDNSLabel(t *testing.T, what, name string, dns1035 bool) {
	t.Helper()
	errs := validation.IsDNS1123Label(name)
	if dns1035 {
		errs = validation.IsDNS1035Label(name)
	}
	if len(errs) > 0 {
		t.Errorf("%s %q: %v", what, name, errs)
	}
}

var k8sVars = env.Vars{
	"HOSTILE": hostile,
	"DOLLARS": "$(HOME) $$(X) $HOME",
	"YAMLISH": "on",
	"EMPTY":   "",
}

func TestKubernetesDecodes(t *testing.T) {
	for _, secret := range []bool{false, true} {
		t.Run(fmt.Sprintf("secret=%v", secret), func(t *testing.T) {
			in := planInput(t, "release: ./migrate\nweb: "+hostileCommand+" && echo $$ $(PORT) $$(PS)\nMy_Worker-X: sleep 1\nclock: true\n", k8sVars, "web=3,My_Worker-X=2,release=1,clock=1")
			files, err := Render(Kubernetes, in, Options{App: "Sample_App", Root: "/srv/sample", Image: "registry.example/sample:1", WorkDir: "/app", User: "1000", Expose: []string{"My_Worker-X"}, Secret: secret, Timeout: 12e9})
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 || files[0].Path != "Sample_App.yaml" {
				t.Fatalf("files %v, want Sample_App.yaml", files)
			}
			objs := k8sObjects(t, files[0].Data)
			var kinds []string
			deployments := map[string]*appsv1.Deployment{}
			services := map[string]*corev1.Service{}
			var job *batchv1.Job
			for _, o := range objs {
				switch o := o.(type) {
				case *corev1.ConfigMap:
					kinds = append(kinds, "ConfigMap")
					if o.Name != "sample-app-env" || !reflect.DeepEqual(o.Data, map[string]string(k8sVars)) {
						t.Errorf("ConfigMap %q data %q, want sample-app-env with %q", o.Name, o.Data, k8sVars)
					}
					for k := range o.Data {
						if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
							t.Errorf("ConfigMap key %q: %v", k, errs)
						}
					}
				case *corev1.Secret:
					kinds = append(kinds, "Secret")
					if o.Name != "sample-app-env" || o.Type != corev1.SecretTypeOpaque || !reflect.DeepEqual(o.StringData, map[string]string(k8sVars)) {
						t.Errorf("Secret %q type %q stringData %q, want sample-app-env, Opaque, %q", o.Name, o.Type, o.StringData, k8sVars)
					}
				case *appsv1.Deployment:
					kinds = append(kinds, "Deployment")
					deployments[o.Name] = o
				case *corev1.Service:
					kinds = append(kinds, "Service")
					services[o.Name] = o
				case *batchv1.Job:
					kinds = append(kinds, "Job")
					job = o
				}
			}
			envKind := "ConfigMap"
			if secret {
				envKind = "Secret"
			}
			wantKinds := []string{envKind, "Job", "Deployment", "Service", "Deployment", "Service", "Deployment"}
			if !reflect.DeepEqual(kinds, wantKinds) {
				t.Errorf("kinds %v, want %v", kinds, wantKinds)
			}

			type want struct {
				component, command string
				replicas, port     int
				exposed            bool
			}
			for name, w := range map[string]want{
				"sample-app-web":         {"web", hostileCommand + " && echo $$ $(PORT) $$(PS)", 3, 5100, true},
				"sample-app-my-worker-x": {"my-worker-x", "sleep 1", 2, 5200, true},
				"sample-app-clock":       {"clock", "true", 1, 5300, false},
			} {
				d := deployments[name]
				if d == nil {
					t.Errorf("no Deployment %s (have %v)", name, reflect.ValueOf(deployments).MapKeys())
					continue
				}
				checkDNSLabel(t, "Deployment", name, true)
				labels := map[string]string{"app.kubernetes.io/name": "sample-app", "app.kubernetes.io/component": w.component}
				if d.Spec.Replicas == nil || int(*d.Spec.Replicas) != w.replicas {
					t.Errorf("%s: replicas %v, want %d", name, d.Spec.Replicas, w.replicas)
				}
				if !reflect.DeepEqual(d.Spec.Selector.MatchLabels, labels) {
					t.Errorf("%s: selector %v, want %v", name, d.Spec.Selector.MatchLabels, labels)
				}
				for k, v := range labels {
					if d.Spec.Template.Labels[k] != v || d.Labels[k] != v {
						t.Errorf("%s: label %s = %q/%q, want %q", name, k, d.Labels[k], d.Spec.Template.Labels[k], v)
					}
					if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
						t.Errorf("%s: label value %q: %v", name, v, errs)
					}
				}
				pod := d.Spec.Template.Spec
				checkPod(t, name, pod, w.component, w.command, w.port, secret)
				if w.exposed {
					if len(pod.Containers[0].Ports) != 1 || pod.Containers[0].Ports[0].ContainerPort != int32(w.port) {
						t.Errorf("%s: ports %v, want containerPort %d", name, pod.Containers[0].Ports, w.port)
					}
					s := services[name]
					if s == nil {
						t.Errorf("no Service %s", name)
						continue
					}
					if !reflect.DeepEqual(s.Spec.Selector, labels) || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != int32(w.port) || s.Spec.Ports[0].TargetPort.IntValue() != w.port {
						t.Errorf("Service %s: selector %v ports %v, want %v on %d", name, s.Spec.Selector, s.Spec.Ports, labels, w.port)
					}
				} else if services[name] != nil || len(pod.Containers[0].Ports) != 0 {
					t.Errorf("%s is not exposed but has a Service or a containerPort", name)
				}
			}
			if job == nil {
				t.Fatal("no release Job")
			}
			if job.Name != "sample-app-release" || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 || job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("Job %s: backoffLimit %v restartPolicy %q", job.Name, job.Spec.BackoffLimit, job.Spec.Template.Spec.RestartPolicy)
			}
			checkPod(t, job.Name, job.Spec.Template.Spec, "release", "./migrate", 5000, secret)
		})
	}
}

// checkPod checks the container of a pod: command, PORT, PS, env source.
func checkPod(t *testing.T, name string, pod corev1.PodSpec, container, command string, port int, secret bool) {
	t.Helper()
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != 12 {
		t.Errorf("%s: terminationGracePeriodSeconds %v, want 12", name, pod.TerminationGracePeriodSeconds)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser != 1000 {
		t.Errorf("%s: runAsUser is not 1000", name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	checkDNSLabel(t, "container", c.Name, false)
	if c.Name != container || c.Image != "registry.example/sample:1" || c.WorkingDir != "/app" {
		t.Errorf("%s: container %q image %q workingDir %q", name, c.Name, c.Image, c.WorkingDir)
	}
	// Kubernetes expands $(VAR) in a command and turns "$$" into "$": the
	// command is written with every '$' doubled.
	wantCmd := []string{"/bin/sh", "-c", strings.ReplaceAll(command, "$", "$$")}
	if !reflect.DeepEqual(c.Command, wantCmd) {
		t.Errorf("%s: command %q, want %q", name, c.Command, wantCmd)
	}
	wantEnv := []corev1.EnvVar{
		{Name: "PORT", Value: fmt.Sprint(port)},
		{Name: "PS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("%s: env %+v, want %+v", name, c.Env, wantEnv)
	}
	ref := corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sample-app-env"}}}
	if secret {
		ref = corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sample-app-env"}}}
	}
	if !reflect.DeepEqual(c.EnvFrom, []corev1.EnvFromSource{ref}) {
		t.Errorf("%s: envFrom %+v, want %+v", name, c.EnvFrom, ref)
	}
}

func TestKubernetesNames(t *testing.T) {
	for _, tc := range []struct {
		name, procfile, app, user, want string
	}{
		{"collision", "web_x: a\nweb-x: b\n", "app", "", `export kubernetes: process type "web-x" and "web_x" both become the Kubernetes name "app-web-x": rename one in the Procfile`},
		{"digit app", "web: a\n", "1app", "", `export kubernetes: app name "1app" must start with a letter: Kubernetes Service names are DNS-1035 labels`},
		{"only punctuation", "__: a\n", "app", "", `export kubernetes: process type "__" leaves nothing of a DNS-1123 name (letters and digits)`},
		{"env clash", "env: a\n", "app", "", `export kubernetes: process type "env" becomes "app-env", the name of the env ConfigMap: rename it in the Procfile`},
		{"user name", "web: a\n", "app", "deploy", `export kubernetes: user "deploy" is not a numeric user id (or root), which Kubernetes needs (runAsUser)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := planInput(t, tc.procfile, env.Vars{"A": "1"}, "")
			_, err := Render(Kubernetes, in, Options{App: tc.app, User: tc.user, Root: "/srv/app", Image: "img"})
			var e *Error
			if !errors.As(err, &e) || err.Error() != tc.want {
				t.Errorf("Render: %v\nwant %s", err, tc.want)
			}
		})
	}
	// root is uid 0 everywhere (issue 12, item 10).
	files, err := Render(Kubernetes, planInput(t, "web: a\n", nil, ""), Options{App: "app", User: "root", Root: "/srv/app", Image: "img"})
	if err != nil {
		t.Fatalf("Render with -u root: %v", err)
	}
	for _, o := range k8sObjects(t, files[0].Data) {
		if d, ok := o.(*appsv1.Deployment); ok {
			if sc := d.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 0 {
				t.Errorf("-u root: Deployment %s securityContext %+v, want runAsUser 0", d.Name, sc)
			}
		}
	}
	long := strings.Repeat("a", 70)
	in := planInput(t, long+": x\n", nil, "")
	files, err = Render(Kubernetes, in, Options{App: "app", Root: "/srv/app", Image: "img"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range k8sObjects(t, files[0].Data) {
		if d, ok := o.(*appsv1.Deployment); ok {
			checkDNSLabel(t, "Deployment", d.Name, true)
			checkDNSLabel(t, "container", d.Spec.Template.Spec.Containers[0].Name, false)
		}
	}
}
