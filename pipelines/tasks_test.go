package pipelines

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/config"
	"github.com/mlcanary/mlcanary/internal/plan/stage"
)

// taskDef is the part of task/task.json a pipeline's use of the task is checked against.
type taskDef struct {
	Name    string `json:"name"`
	Version struct {
		Major int `json:"Major"`
	} `json:"version"`
	Inputs []struct {
		Name         string            `json:"name"`
		Aliases      []string          `json:"aliases"`
		Type         string            `json:"type"`
		DefaultValue string            `json:"defaultValue"`
		Required     bool              `json:"required"`
		VisibleRule  string            `json:"visibleRule"`
		Options      map[string]string `json:"options"`
		Properties   map[string]string `json:"properties"`
	} `json:"inputs"`
	OutputVariables []struct {
		Name string `json:"name"`
	} `json:"outputVariables"`
}

func readTaskDef(path string) (taskDef, error) {
	var t taskDef
	b, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	return t, json.Unmarshal(b, &t)
}

// matches reports whether a step's task reference (MLCanary@1) names this task, any version.
func (t taskDef) matches(ref string) bool {
	name, _, _ := strings.Cut(ref, "@")
	return strings.EqualFold(name, t.Name)
}

func (t taskDef) hasOutput(name string) bool {
	for _, o := range t.OutputVariables {
		if strings.EqualFold(o.Name, name) {
			return true
		}
	}
	return false
}

// macro matches what Azure replaces before the task runs: $(var), ${{ … }}, $[ … ].
var (
	macro     = regexp.MustCompile(`\$\(([^)]*)\)|\$\{\{.*?\}\}|\$\[.*?\]`)
	macroName = regexp.MustCompile(`\$\(([^)]*)\)`)
)

// checkTask returns what is wrong with one step of the task: a version task.json does not have,
// an input it does not declare, a value its type does not allow (pickList and radio options unless
// the options are editable, boolean true/false, a service connection not empty, the stage one
// mlcanary parses), what the stage needs (checkStageFacts), a required input without default left
// out while its visibleRule shows it, a
// $(variable) no variables block defines (Azure then passes the text "$(name)" on). Values with a
// macro are decided at run time and pass the type checks.
func checkTask(where, ref string, inputs map[string]any, t taskDef, defined func(string) bool) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, where+": "+fmt.Sprintf(format, args...)) }
	if _, v, _ := strings.Cut(ref, "@"); v != fmt.Sprint(t.Version.Major) {
		fail("%s: task.json is version %d", ref, t.Version.Major)
	}
	values := map[string]string{}
	for _, name := range sortedKeys(inputs) {
		raw := inputs[name]
		in := t.input(name)
		if in < 0 {
			fail("%s has no input %s", ref, name)
			continue
		}
		v := fmt.Sprint(raw)
		values[t.Inputs[in].Name] = v
		for _, m := range macroName.FindAllStringSubmatch(v, -1) {
			if n := strings.TrimSpace(m[1]); !strings.Contains(n, ".") && !defined(n) {
				fail("input %s uses $(%s), which no variables block defines: the task would get the text %q", name, n, m[0])
			}
		}
		if macro.MatchString(v) {
			continue
		}
		if err := t.validValue(in, v); err != "" {
			fail("input %s: %q is not %s", name, v, err)
		}
	}
	out = append(out, checkStageFacts(where, ref, t, values)...)
	for i, in := range t.Inputs {
		if !in.Required || in.DefaultValue != "" || !visible(in.VisibleRule, t, values) {
			continue
		}
		if strings.TrimSpace(values[in.Name]) == "" {
			fail("%s needs input %s (required, no default, shown when %q)", ref, t.Inputs[i].Name, in.VisibleRule)
		}
	}
	return out
}

// checkStageFacts holds a step to what its stage needs as input, by the stage facts mlcanary itself
// applies (package plan/stage: stage.Parse, Stage.NeedsImage — Blue_0 deploys an image as blue),
// so the rules live in one place: a stage that needs an image needs the task's image input, or its
// imageRepository and imageTag (the task inputs of config's image flags, azdo.TaskInput). A left-out
// stage is task.json's default; a stage or image set by a macro is decided at run time and passes.
func checkStageFacts(where, ref string, t taskDef, values map[string]string) []string {
	name, given := values[azdo.InputStage]
	if !given {
		if i := t.input(azdo.InputStage); i >= 0 {
			name = t.Inputs[i].DefaultValue
		}
	}
	s, _, ok := stage.Parse(name)
	if macro.MatchString(name) || !ok || !s.NeedsImage() {
		return nil
	}
	has := func(flag string) bool { return strings.TrimSpace(values[azdo.TaskInput(flag)]) != "" }
	if has(config.FlagImage) || has(config.FlagImageRepo) && has(config.FlagImageTag) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s stage %s needs an image (it deploys it as blue): input %s, or %s and %s", where, ref, s,
		azdo.TaskInput(config.FlagImage), azdo.TaskInput(config.FlagImageRepo), azdo.TaskInput(config.FlagImageTag))}
}

func (t taskDef) input(name string) int {
	for i, in := range t.Inputs {
		if in.Name == name {
			return i
		}
		for _, a := range in.Aliases {
			if a == name {
				return i
			}
		}
	}
	return -1
}

// validValue returns "" when v is allowed for input i, else what is allowed.
func (t taskDef) validValue(i int, v string) string {
	in := t.Inputs[i]
	switch {
	case in.Name == azdo.InputStage:
		if _, allowed, ok := stage.Parse(v); !ok {
			return "a stage: " + allowed
		}
	case in.Type == "boolean":
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return "true or false"
		}
	case in.Type == "pickList" || in.Type == "radio":
		if _, ok := in.Options[v]; !ok && !strings.EqualFold(in.Properties["EditableOptions"], "true") {
			return "one of its options"
		}
	case strings.HasPrefix(in.Type, "connectedService:"):
		if strings.TrimSpace(v) == "" {
			return "a service connection"
		}
	}
	return ""
}

// visible evaluates a visibleRule (`a = x`, `a != ""`, joined by && or ||) on the given values,
// defaults for the rest. A rule on a value set by a macro is not decidable here: not visible.
func visible(rule string, t taskDef, values map[string]string) bool {
	if strings.TrimSpace(rule) == "" {
		return true
	}
	or := strings.Contains(rule, "||")
	sep := "&&"
	if or {
		sep = "||"
	}
	for _, clause := range strings.Split(rule, sep) {
		ok := clauseHolds(clause, t, values)
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
}

func clauseHolds(clause string, t taskDef, values map[string]string) bool {
	op := "="
	name, want, found := strings.Cut(clause, "!=")
	if found {
		op = "!="
	} else if name, want, found = strings.Cut(clause, "="); !found {
		return true // an operator not modelled here: treat as shown, so required inputs are required
	}
	name, want = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(want), `"`)
	v, given := values[name]
	if !given {
		if i := t.input(name); i >= 0 {
			v = t.Inputs[i].DefaultValue
		}
	}
	if macro.MatchString(v) {
		return false
	}
	return (v == want) == (op == "=")
}
