package app

import (
	"strings"
	"testing"
)

// TestOverlappingHostsAreInvalidInput: --hosts values that overlap ("*" covers every name,
// "*.example.com" covers model.example.com and *.a.example.com, a name given twice) make a
// VirtualService Istio rejects ("duplicate hosts in virtual service"); they are invalid input:
// exit 2, one line naming hosts, nothing planned. Hosts that do not overlap pass.
func TestOverlappingHostsAreInvalidInput(t *testing.T) {
	for _, hosts := range []string{"*,model.example.com", "*.example.com,model.example.com", "model.example.com,model.example.com",
		"model.example.com,*", "*.a.example.com,*.example.com", "a.example.com,b.example.com,a.example.com"} {
		code, out, errs := runCLI(t, "", "plan", "Blue_0", "--offline", "--image=x.io/m:1", "--hosts="+hosts)
		if code != ExitInvalid || !strings.HasPrefix(errs, "mlcanary: invalid hosts ") || strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
			t.Errorf("--hosts=%s: exit %d, stderr %q, stdout %d bytes; want exit 2, one line naming hosts (Istio rejects overlapping hosts)", hosts, code, errs, len(out))
		}
	}
	for _, hosts := range []string{"model.example.com,other.example.com", "*.example.com,example.com", "*.a.example.com,*.b.example.com"} {
		if code, _, errs := runCLI(t, "", "plan", "Blue_0", "--offline", "--image=x.io/m:1", "--hosts="+hosts); code != 0 {
			t.Errorf("--hosts=%s: exit %d, stderr %q; want accepted", hosts, code, errs)
		}
	}
}
