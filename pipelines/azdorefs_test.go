package pipelines

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// reference is one read of another stage's or job's result or outputs in an expression:
// stageDependencies.S.J[.outputs['KEY']] or dependencies.X[.outputs['KEY']].
type reference struct {
	text      string
	stageDeps bool
	first     string // S, or X
	job       string // J (stageDependencies only)
	key       string // the outputs key; "" for .result and the like
}

var (
	stageDepsRef = regexp.MustCompile(`(?i)\bstageDependencies\.(\w+)\.(\w+)(?:\.outputs\[\s*'([^']*)'\s*\])?`)
	depsRef      = regexp.MustCompile(`(?i)\bdependencies\.(\w+)(?:\.outputs\[\s*'([^']*)'\s*\])?`)
)

func referencesIn(s string) []reference {
	var refs []reference
	for _, m := range stageDepsRef.FindAllStringSubmatch(s, -1) {
		refs = append(refs, reference{text: m[0], stageDeps: true, first: m[1], job: m[2], key: m[3]})
	}
	for _, m := range depsRef.FindAllStringSubmatch(s, -1) {
		refs = append(refs, reference{text: m[0], first: m[1], key: m[2]})
	}
	return refs
}

// expression is a condition or variable value where references may be read.
type expression struct {
	where   string // "condition", "variable imageTag"
	text    string
	runtime bool // evaluated at run time: a condition, or a variable written $[ … ]
}

// expressionsOf returns the node's condition and variables (map or list form).
func expressionsOf(n map[string]any) []expression {
	var out []expression
	if cond, ok := n["condition"].(string); ok {
		out = append(out, expression{where: "condition", text: cond, runtime: true})
	}
	vars := variablesOf(n["variables"])
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := strings.TrimSpace(vars[name])
		out = append(out, expression{where: "variable " + name, text: v, runtime: strings.HasPrefix(v, "$[")})
	}
	return out
}

// variablesOf reads a variables block, `name: value` or `- name: … value: …`; groups and templates
// have no names here.
func variablesOf(v any) map[string]string {
	out := map[string]string{}
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			out[k] = fmt.Sprint(val)
		}
	case []any:
		for _, e := range t {
			m, _ := e.(map[string]any)
			if name, ok := m["name"].(string); ok {
				out[name] = fmt.Sprint(m["value"])
			}
		}
	}
	return out
}

func variableNames(v any) map[string]bool {
	out := map[string]bool{}
	for k := range variablesOf(v) {
		out[strings.ToLower(k)] = true
	}
	return out
}

// checkStageRefs holds a stage's condition and variables to the stage-level rules.
func (c *azChecker) checkStageRefs(s azStage) {
	for _, e := range expressionsOf(s.node) {
		where := fmt.Sprintf("stage %s %s", s.name, e.where)
		for _, r := range c.readable(where, e, referencesIn(e.text)) {
			if r.stageDeps && e.where == "condition" {
				c.fail("%s reads %s: a stage condition reads stage %s's outputs as dependencies.%s.outputs['JOB.STEP.VARIABLE']; stageDependencies is the jobs' form", where, r.text, r.first, r.first)
				continue
			}
			if !containsFold(s.dependsOn, r.first) {
				c.fail("%s reads %s, but stage %s is not in its dependsOn %v: the value is empty at run time", where, r.text, r.first, s.dependsOn)
				continue
			}
			c.checkProducer(where, r, r.first)
		}
	}
}

// checkJob holds a job's condition, variables and steps to the job-level rules, and its
// MLCanary steps to task.json.
func (c *azChecker) checkJob(s azStage, j azJob) {
	where := fmt.Sprintf("stage %s job %s", s.name, j.name)
	exprs := expressionsOf(j.node)
	for i, st := range stepsOf(j.node) {
		if cond, ok := st["condition"].(string); ok {
			exprs = append(exprs, expression{where: fmt.Sprintf("step %d condition", i+1), text: cond, runtime: true})
		}
	}
	for _, e := range exprs {
		w := where + " " + e.where
		for _, r := range c.readable(w, e, referencesIn(e.text)) {
			switch {
			case r.stageDeps && !containsFold(s.dependsOn, r.first):
				c.fail("%s reads %s, but stage %s is not in stage %s's dependsOn %v: the value is empty at run time", w, r.text, r.first, s.name, s.dependsOn)
			case r.stageDeps:
				c.checkProducer(w, r, r.first)
			case s.job(r.first) == nil && c.stage(r.first) != nil:
				c.fail("%s reads %s: in a job, dependencies names jobs of the same stage; read stage %s's outputs as stageDependencies.%s.JOB.outputs['STEP.VARIABLE']", w, r.text, r.first, r.first)
			case !containsFold(j.dependsOn, r.first):
				c.fail("%s reads %s, but job %s is not in the job's dependsOn %v: the value is empty at run time", w, r.text, r.first, j.dependsOn)
			default:
				c.checkOutput(w, r.text, &s, s.job(r.first), r.key)
			}
		}
	}
	vars := func(name string) bool {
		n := strings.ToLower(name)
		return c.globals[n] || variableNames(s.node["variables"])[n] || variableNames(j.node["variables"])[n]
	}
	for i, st := range stepsOf(j.node) {
		sw := fmt.Sprintf("%s step %d", where, i+1)
		inputs, _ := st["inputs"].(map[string]any)
		for _, name := range sortedKeys(inputs) {
			for _, r := range referencesIn(fmt.Sprint(inputs[name])) {
				c.fail("%s input %s reads %s: task inputs are not run-time expressions; map it to a variable with $[ ] and pass $(variable)", sw, name, r.text)
			}
		}
		if t, ok := st["task"].(string); ok && c.task.matches(t) {
			c.findings = append(c.findings, checkTask(sw, t, inputs, c.task, vars)...)
		}
	}
}

// readable drops (and reports) references an expression never evaluates: a variable that is not
// written $[ … ] keeps the text as it is.
func (c *azChecker) readable(where string, e expression, refs []reference) []reference {
	if len(refs) > 0 && !e.runtime {
		c.fail("%s reads %s outside $[ ]: a variable's value is only evaluated when written $[ … ]", where, refs[0].text)
		return nil
	}
	return refs
}

// checkProducer checks the job and output a reference to stage sname reads exist.
func (c *azChecker) checkProducer(where string, r reference, sname string) {
	ps := c.stage(sname)
	if ps == nil {
		return // reported with dependsOn
	}
	job, key := r.job, r.key
	if !r.stageDeps { // dependencies.S.outputs['J.…']
		if key == "" {
			return // dependencies.S.result
		}
		job, key, _ = strings.Cut(key, ".")
	}
	c.checkOutput(where, r.text, ps, ps.job(job), key)
	if ps.job(job) == nil {
		c.fail("%s reads %s, but stage %s has no job %s", where, r.text, ps.name, job)
	}
}

// checkOutput checks key (STEP.VAR, or JOB.STEP.VAR for a deployment job's runOnce outputs) names
// a step of job j that sets VAR as an output.
func (c *azChecker) checkOutput(where, text string, s *azStage, j *azJob, key string) {
	if j == nil || key == "" {
		return
	}
	parts := strings.Split(key, ".")
	if j.deployment {
		if len(parts) != 3 || !strings.EqualFold(parts[0], j.name) {
			c.fail("%s reads %s, but a deployment job's outputs are named '%s.STEP.VARIABLE'", where, text, j.name)
			return
		}
		parts = parts[1:]
	}
	if len(parts) != 2 {
		c.fail("%s reads %s, but job %s's outputs are named 'STEP.VARIABLE'", where, text, j.name)
		return
	}
	step, variable := parts[0], parts[1]
	for _, st := range stepsOf(j.node) {
		if name, _ := st["name"].(string); !strings.EqualFold(name, step) {
			continue
		}
		if !c.setsOutput(st, variable) {
			c.fail("%s reads %s, but step %s of stage %s job %s does not set output %s", where, text, step, s.name, j.name, variable)
		}
		return
	}
	c.fail("%s reads %s, but stage %s job %s has no step named %s", where, text, s.name, j.name, step)
}

// setsOutput reports whether a step may set the output variable: a script must say
// task.setvariable variable=NAME with isOutput=true, MLCanary's outputs are task.json's; other
// tasks are not known here and pass.
func (c *azChecker) setsOutput(st map[string]any, variable string) bool {
	for _, k := range []string{"bash", "script", "pwsh", "powershell"} {
		if script, ok := st[k].(string); ok {
			for _, line := range strings.Split(strings.ToLower(script), "\n") {
				if strings.Contains(line, "variable="+strings.ToLower(variable)+";") && strings.Contains(line, "isoutput=true") {
					return true
				}
			}
			return false
		}
	}
	if t, ok := st["task"].(string); ok && c.task.matches(t) {
		return c.task.hasOutput(variable)
	}
	return true
}

// stepsOf returns every step of a job: its steps, or those of a deployment strategy's hooks.
func stepsOf(n map[string]any) []map[string]any {
	var out []map[string]any
	keys := sortedKeys(n)
	for _, k := range keys {
		switch v := n[k].(type) {
		case map[string]any:
			out = append(out, stepsOf(v)...)
		case []any:
			if k != "steps" {
				continue
			}
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
