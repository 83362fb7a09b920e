package azdo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
)

// command is one logging command as the agent parses it (agent Command.TryParse and
// CommandStringConvertor.Unescape with DECODE_PERCENTS on).
type command = azdotest.Command

// parseCommands reads output the way the agent does: each line holding "##vso[" is one command.
func parseCommands(t *testing.T, out string) []command {
	t.Helper()
	cmds, err := azdotest.ParseCommands(out)
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, wantData, wantProp string
	}{
		{"plain", "Blue_50", "Blue_50", "Blue_50"},
		{"percent first", "100%0A", "100%AZP250A", "100%AZP250A"},
		{"newlines", "a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"brackets and semicolons", "x]y;z", "x]y;z", "x%5Dy%3Bz"},
		{"command in text", "##vso[task.complete result=Failed]", "##vso[task.complete result=Failed]", "##vso[task.complete result=Failed%5D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeData(tt.in); got != tt.wantData {
				t.Errorf("EscapeData(%q) = %q, want %q", tt.in, got, tt.wantData)
			}
			if got := EscapeProperty(tt.in); got != tt.wantProp {
				t.Errorf("EscapeProperty(%q) = %q, want %q", tt.in, got, tt.wantProp)
			}
		})
	}
}

// TestCommandsRoundTrip writes hostile values through every command and checks the agent would read
// back exactly those values, each as one command.
func TestCommandsRoundTrip(t *testing.T) {
	hostile := "reg.io/m:1]; ##vso[task.setvariable variable=x]pwned\r\n100% %AZP25 %0A"
	var out bytes.Buffer
	l := NewLog(&out)
	l.SetOutput("blueImage", hostile)
	l.Error(hostile)
	l.AddSummary("MLCanary "+hostile, "/tmp/s.md")
	l.Progress(50, hostile)
	got := parseCommands(t, out.String())
	want := []command{
		{Name: "task.setvariable", Props: map[string]string{"variable": "blueImage", "isoutput": "true", "issecret": "false"}, Data: hostile},
		{Name: "task.logissue", Props: map[string]string{"type": "error"}, Data: hostile},
		{Name: "task.addattachment", Props: map[string]string{"type": "Distributedtask.Core.Summary", "name": "MLCanary " + hostile}, Data: "/tmp/s.md"},
		{Name: "task.setprogress", Props: map[string]string{"value": "50"}, Data: hostile},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 4 (one per command):\n%s", n, out.String())
	}
}

func TestPrintfNeutralisesCommands(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out)
	l.Printf("pod says: %s", "##vso[task.complete result=Failed]x\n##[error]fake\nfine ##VSO[build.addbuildtag]t")
	if cmds := parseCommands(t, out.String()); len(cmds) != 0 {
		t.Errorf("plain text became commands: %+v", cmds)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(strings.ToLower(line), "##vso[") || strings.HasPrefix(line, "##[") {
			t.Errorf("line still holds a command: %q", line)
		}
	}
	if !strings.Contains(out.String(), "pod says: ##vso%5Btask.complete") {
		t.Errorf("text not kept readable:\n%s", out.String())
	}
}

func TestSecretsMaskedAndRedacted(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out)
	key := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretline1\nsecretline2zzzz\n-----END RSA PRIVATE KEY-----\n"
	l.SetSecret("tok3n-value")
	l.SetSecret(key)
	l.SetSecret("tok3n-value") // registered once
	l.SetSecret("")
	l.Printf("using tok3n-value and secretline2zzzz")
	l.Error("bad tok3n-value")
	var masked []string
	for _, c := range parseCommands(t, out.String()) {
		if c.Name == "task.setsecret" {
			masked = append(masked, c.Data)
		}
	}
	if diff := cmp.Diff([]string{"tok3n-value", "MIIEowIBAAKCAQEAsecretline1", "secretline2zzzz"}, masked); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, line := range lines[len(masked):] {
		if strings.Contains(line, "tok3n-value") || strings.Contains(line, "secretline2zzzz") {
			t.Errorf("secret printed after masking: %q", line)
		}
	}
}
