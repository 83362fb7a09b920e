// Package azdo is mlcanary's Azure DevOps front end: it reads the MLCanary@1 task's inputs and
// service connections from the agent's environment, turns them into the shared config inputs and a
// cluster client config, and reports back to the agent with logging commands (##vso[...]) — masked
// secrets, progress, issues, output variables, the run summary and a build tag.
package azdo

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mlcanary/mlcanary/internal/config"
)

// Log writes logging commands and plain lines to the agent, which reads the task's stdout line by
// line. Every text that did not come from mlcanary itself (cluster messages, image names, errors) is
// escaped so it can never become a command, and every secret registered with SetSecret is redacted
// from later output even before the agent's own masking applies.
type Log struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

// NewLog returns a Log writing to w (the task's stdout).
func NewLog(w io.Writer) *Log { return &Log{w: w} }

// Prop is one key=value property of a logging command; a slice keeps their order stable.
type Prop struct{ Key, Value string }

// Command writes ##vso[name k=v;...]data with properties and data escaped as the agent expects.
func (l *Log) Command(name string, props []Prop, data string) {
	var b strings.Builder
	b.WriteString("##vso[")
	b.WriteString(name)
	for i, p := range props {
		if i == 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(EscapeProperty(l.redact(p.Value)))
		b.WriteByte(';')
	}
	b.WriteByte(']')
	b.WriteString(EscapeData(l.redact(data)))
	l.writeLine(b.String())
}

// SetSecret registers v with the agent's masker. Secrets spanning lines are registered line by line
// (the agent rejects multi-line secrets), skipping PEM armour lines that are not secret.
func (l *Log) SetSecret(v string) {
	for _, line := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 4 || strings.HasPrefix(line, "-----") {
			continue
		}
		l.mu.Lock()
		known := contains(l.secrets, line)
		if !known {
			l.secrets = append(l.secrets, line)
		}
		l.mu.Unlock()
		if !known {
			l.writeLine("##vso[task.setsecret]" + EscapeData(line))
		}
	}
}

// Printf writes a plain log line (or several); text that looks like a command is neutralised.
func (l *Log) Printf(format string, args ...any) {
	text := l.redact(fmt.Sprintf(format, args...))
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		l.writeLine(Neutralise(line))
	}
}

// Debug writes a line the agent shows only when system.debug is true.
func (l *Log) Debug(msg string) { l.Command("task.debug", nil, msg) }

// Error reports an error on the run's summary page.
func (l *Log) Error(msg string) { l.Command("task.logissue", []Prop{{"type", "error"}}, msg) }

// Warning reports a warning on the run's summary page.
func (l *Log) Warning(msg string) { l.Command("task.logissue", []Prop{{"type", "warning"}}, msg) }

// Progress updates the step's progress indicator (0-100) with the current operation.
func (l *Log) Progress(percent int, operation string) {
	l.Command("task.setprogress", []Prop{{"value", fmt.Sprint(percent)}}, operation)
}

// Complete sets the step's result (Succeeded, SucceededWithIssues or Failed) with a reason.
func (l *Log) Complete(result, msg string) {
	l.Command("task.complete", []Prop{{"result", result}}, msg)
}

// SetOutput sets an output variable later steps read as $(step.name) or via dependencies.
func (l *Log) SetOutput(name, value string) {
	l.Command("task.setvariable", []Prop{{"variable", name}, {"isoutput", "true"}, {"issecret", "false"}}, value)
}

// AddSummary attaches the Markdown file at path to the run's Extensions tab under title.
func (l *Log) AddSummary(title, path string) {
	l.Command("task.addattachment", []Prop{{"type", "Distributedtask.Core.Summary"}, {"name", title}}, path)
}

func (l *Log) writeLine(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, s+"\n")
}

func (l *Log) redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, secret := range l.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// EscapeData escapes a command's message as azure-pipelines-task-lib does: % first (as %AZP25, which
// the agent decodes), then CR and LF, so the message stays on the command's line.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a property value: as data, plus ] and ; which end a value or the properties.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", "]", "%5D", ";", "%3B").Replace(s)
}

// Neutralise makes one plain line safe to print: "##vso[" and "##[" lose their bracket (shown as
// %5B), so text from a cluster or a user can never be run by the agent as a command. It is
// config.Neutralise, the one rule every front end (and the CLI's error line) applies.
func Neutralise(line string) string { return config.Neutralise(line) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
