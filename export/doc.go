// Package export writes a Procfile app's formation as the configuration of
// a process supervisor or orchestrator: systemd units, a supervisord
// program group, runit service directories, launchd property lists, a
// Compose file or Kubernetes objects.
//
// Render computes every file in memory from an Input (the Procfile entries
// and the instances procfile.App.Plan lists, each with its environment) and
// Options, and fails with an *Error, before anything is written, when a
// value cannot be held by the target format (a newline in a supervisord
// environment, say). WriteFiles then puts the files into a directory. The
// instances' environments are what the units set: proctor export plans them
// from the env files' variables alone, so the environment of the machine
// that exports never goes into an export.
//
// # Templates
//
// Every file is rendered with text/template from a built-in template,
// embedded in the binary, that a file of the same name in
// Options.TemplateDir replaces (looked up as DIR/FORMAT/NAME, then
// DIR/NAME). The templates are:
//
//	systemd      target.tmpl (APP.target), service.tmpl (APP-TYPE-N.service, per instance)
//	supervisord  supervisord.conf.tmpl (APP.conf)
//	runit        run.tmpl (APP-TYPE-N/run), log-run.tmpl (APP-TYPE-N/log/run), per instance
//	launchd      launchd.plist.tmpl (APP-TYPE-N.plist, per instance)
//	compose      compose.yaml.tmpl (compose.yaml)
//	kubernetes   kubernetes.yaml.tmpl (APP.yaml)
//
// A template receives a *Data as ".": the app's settings (.App, .User,
// .LogDir, .RunDir, .Root, .Timeout in seconds, .Image, .WorkDir, .Secret),
// the env files' variables (.Env, a list of Var with .Name and .Value), the
// instances (.Instances), the process types (.Types), the release instance
// (.Release, or nil), and for per-instance templates the instance itself
// (.Instance). An Instance has .Name (PS, "web.1"), .Type, .Num, .Port,
// .Command, .ID ("APP-web-1"), .Release, .Exposed, .Env (the env files'
// variables, its type's env_file, then PORT and PS), .After (the instances
// it starts after), .Ready and .ReadyTimeout (its type's ready check). runit's env/ files are not templated: they
// are written from .Instance.Env.
//
// Escaping is done by functions, each for one consumer; those that meet a
// value their consumer cannot hold stop the export with an error naming it:
//
//	shquote STRING              one POSIX shell word
//	systemdValue STRING         a one-line unit setting ('%' doubled)
//	systemdEnv VAR              one quoted word of Environment=
//	systemdExec ARG...          the value of ExecStart= ('%' and '$' escaped)
//	supervisorValue STRING      a one-line supervisord setting ('%' doubled)
//	supervisorEnv VARS          the value of environment=
//	supervisorCommand ARG...    the value of command=
//	xml STRING                  XML character data
//	plist VALUE                 an XML property list of VALUE (howett.net/plist)
//	launchdJob DATA             the launchd job of .Instance, for plist
//	yaml VALUE                  a YAML document of VALUE (gopkg.in/yaml.v3)
//	json VALUE                  one-line JSON, also a YAML flow scalar
//	composeEscape STRING        '$' written as "$$"
//	composeFile DATA            the Compose model proctor writes, for yaml
//	kubernetesObjects DATA      the Kubernetes objects proctor writes, for yaml
//	dnsName STRING              a DNS-1123 label
//	join LIST SEP               strings.Join
//
// The built-in compose, kubernetes and launchd templates render the model
// with a library ({{ yaml (composeFile .) }}); a user template may add to it
// (more top-level keys, more documents) or write the file itself.
//
// Each format's file documents its choices: per-instance systemd units
// rather than template units, how the release entry maps to each target,
// the Kubernetes name rule, and which values each format cannot hold.
package export

import (
	"embed"
	"io/fs"
)

//go:embed templates
var builtin embed.FS

// dirMode marks a File that is a directory.
const dirMode = fs.ModeDir
