package pipelines

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// checkAzure returns the run-time faults of an Azure Pipelines YAML document: what Azure accepts
// when the run is queued but resolves to an empty value, or refuses, only once a stage runs. Each
// finding is one line naming the stage (and job) and the rule. The rules, from the Azure Pipelines
// docs (expressions.md "Dependencies", set-variables-scripts.md, yaml-schema stages/jobs):
//
//   - Names: a stage or job name has only letters, digits and '_' and does not start with a digit;
//     stage names are unique in the pipeline, job names in their stage; every name in dependsOn
//     exists, and the dependencies have no cycle. A stage without dependsOn depends on the stage
//     before it; a job without dependsOn on no job.
//   - Outputs: a stage's output variables reach only the stages that list it in dependsOn. In a
//     stage's condition or variables, dependencies.S.outputs['J.STEP.VAR'] and
//     stageDependencies.S.J.outputs['STEP.VAR'] need S in the stage's dependsOn; in a job's
//     condition or variables, stageDependencies.S.J… needs S in the enclosing stage's dependsOn
//     and dependencies.J… needs J in the job's dependsOn. Each form only in its place: a stage
//     condition has no stageDependencies, and a job's dependencies are its own stage's jobs. The
//     job and the named step must exist (a deployment job's runOnce outputs carry its name
//     first), and a script step must set VAR with isOutput=true. A variable reads them only
//     inside $[ ]; task inputs never evaluate them.
//   - Task steps (checkTask): see tasks_test.go.
func checkAzure(doc []byte, task taskDef) ([]string, error) {
	var p map[string]any
	if err := yaml.Unmarshal(doc, &p); err != nil {
		return nil, err
	}
	c := &azChecker{task: task, globals: variableNames(p["variables"])}
	c.stages = stagesOf(p)
	c.checkStages()
	return c.findings, nil
}

// azStage and azJob are a stage and a job with their dependencies resolved (implicit ones included).
type azStage struct {
	name      string
	node      map[string]any
	dependsOn []string
	jobs      []azJob
}

type azJob struct {
	name       string
	deployment bool
	node       map[string]any
	dependsOn  []string
}

type azChecker struct {
	task     taskDef
	globals  map[string]bool
	stages   []azStage
	findings []string
}

func (c *azChecker) fail(format string, args ...any) {
	c.findings = append(c.findings, fmt.Sprintf(format, args...))
}

// validName is Azure's rule for stage and job names.
var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// implicit names the stage of a pipeline without stages and the job of one with only steps.
const implicit = "(implicit)"

// stagesOf reads the stages, the implicit stage and job of a jobs-only or steps-only pipeline
// included.
func stagesOf(p map[string]any) []azStage {
	raw, ok := p["stages"].([]any)
	if !ok {
		jobs := p["jobs"]
		if _, ok := jobs.([]any); !ok {
			jobs = []any{map[string]any{"job": implicit, "steps": p["steps"], "variables": nil}}
		}
		raw = []any{map[string]any{"stage": implicit, "jobs": jobs}}
	}
	var out []azStage
	for i, r := range raw {
		n, _ := r.(map[string]any)
		name, _ := n["stage"].(string)
		if n == nil || name == "" { // a template reference: not checked
			continue
		}
		deps, given := namesOf(n["dependsOn"])
		if !given && i > 0 && len(out) > 0 {
			deps = []string{out[len(out)-1].name}
		}
		s := azStage{name: name, node: n, dependsOn: deps}
		for _, rj := range asList(n["jobs"]) {
			j, _ := rj.(map[string]any)
			jn, _ := j["job"].(string)
			dn, dep := j["deployment"].(string)
			if dep {
				jn = dn
			}
			if jn == "" {
				continue
			}
			jd, _ := namesOf(j["dependsOn"])
			s.jobs = append(s.jobs, azJob{name: jn, deployment: dep, node: j, dependsOn: jd})
		}
		out = append(out, s)
	}
	return out
}

func (c *azChecker) stage(name string) *azStage {
	for i := range c.stages {
		if strings.EqualFold(c.stages[i].name, name) {
			return &c.stages[i]
		}
	}
	return nil
}

func (c *azChecker) checkStages() {
	seen, inCycle := map[string]bool{}, map[string]bool{}
	for _, s := range c.stages {
		c.checkName("stage", s.name, "", seen)
		for _, d := range s.dependsOn {
			if c.stage(d) == nil {
				c.fail("stage %s: dependsOn names %s, which is not a stage", s.name, d)
			}
		}
		if cyc := c.cycle(s.name, nil); cyc != nil && !inCycle[s.name] {
			c.fail("stage %s: dependsOn forms a cycle %s", s.name, strings.Join(cyc, " → "))
			for _, n := range cyc {
				inCycle[n] = true
			}
		}
		c.checkStageRefs(s)
		jobs := map[string]bool{}
		for _, j := range s.jobs {
			c.checkName("job", j.name, "stage "+s.name+": ", jobs)
			for _, d := range j.dependsOn {
				if s.job(d) == nil {
					c.fail("stage %s job %s: dependsOn names %s, which is not a job of stage %s", s.name, j.name, d, s.name)
				}
			}
			c.checkJob(s, j)
		}
	}
}

func (c *azChecker) checkName(kind, name, where string, seen map[string]bool) {
	if strings.Contains(name, "${{") || name == implicit {
		return
	}
	if !validName.MatchString(name) {
		c.fail("%s%s name %q: only letters, digits and _ are allowed, and it must not start with a digit", where, kind, name)
	}
	if seen[strings.ToLower(name)] {
		c.fail("%s%s name %s is used twice", where, kind, name)
	}
	seen[strings.ToLower(name)] = true
}

// cycle returns a dependsOn path from name back to itself, if there is one.
func (c *azChecker) cycle(name string, path []string) []string {
	if slices.Contains(path, name) {
		if path[0] == name {
			return append(path, name)
		}
		return nil
	}
	s := c.stage(name)
	if s == nil {
		return nil
	}
	for _, d := range s.dependsOn {
		if cyc := c.cycle(d, append(slices.Clone(path), name)); cyc != nil {
			return cyc
		}
	}
	return nil
}

func (s *azStage) job(name string) *azJob {
	for i := range s.jobs {
		if strings.EqualFold(s.jobs[i].name, name) {
			return &s.jobs[i]
		}
	}
	return nil
}

// namesOf reads a dependsOn value: one name or a list; given is false when it is absent.
func namesOf(v any) (names []string, given bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return []string{t}, true
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	}
	return names, true
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
