package azdo_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mlcanary/mlcanary/internal/azdo"
	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
)

func job(s *azdotest.Server) azdo.Job {
	return azdo.ReadJob(func(k string) (string, bool) {
		v, ok := map[string]string{
			"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI":                      s.URL + "/",
			"ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN": s.Token,
			"SYSTEM_TEAMPROJECTID":                                    s.Project,
			"SYSTEM_TEAMPROJECT":                                      "ML Project",
			"BUILD_BUILDID":                                           s.BuildID,
			"AGENT_TEMPDIRECTORY":                                     os.TempDir(),
		}[k]
		return v, ok
	})
}

func trusting(s *azdotest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &tls.Config{RootCAs: pool}
}

func TestTagBuild(t *testing.T) {
	s := azdotest.Start(t)
	j := job(s)
	conn := j.Connection()
	conn.TlsConfig = trusting(s)
	if err := j.TagBuild(context.Background(), "Blue_50", conn); err != nil {
		t.Fatal(err)
	}
	if got := s.Tags(); !slices.Equal(got, []string{"Blue_50"}) {
		t.Errorf("tags %v, want [Blue_50]", got)
	}
	if want := s.URL + "/ML%20Project/_build/results?buildId=321"; j.RunURL() != want {
		t.Errorf("RunURL() = %q, want %q", j.RunURL(), want)
	}
}

func TestRunURLOfRelease(t *testing.T) {
	j := azdo.ReadJob(func(k string) (string, bool) {
		v, ok := map[string]string{"RELEASE_RELEASEWEBURL": "https://dev.azure.com/o/p/_release?releaseId=7", "BUILD_BUILDID": "9",
			"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/o/"}[k]
		return v, ok
	})
	if got := j.RunURL(); got != "https://dev.azure.com/o/p/_release?releaseId=7" {
		t.Errorf("RunURL() = %q, want the release's page", got)
	}
}

func TestTagBuildFailures(t *testing.T) {
	s := azdotest.Start(t)
	tests := []struct {
		name   string
		change func(*azdo.Job)
		fail   int
		want   string
	}{
		{"refused", nil, 403, "VS403403"},
		{"wrong token", func(j *azdo.Job) { j.AccessToken = "expired" }, 0, "TF400813"},
		{"release run", func(j *azdo.Job) { j.BuildID = 0 }, 0, "not a build run"},
		{"no token", func(j *azdo.Job) { j.AccessToken = "" }, 0, "access token is unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Fail = tt.fail
			j := job(s)
			if tt.change != nil {
				tt.change(&j)
			}
			conn := j.Connection()
			conn.TlsConfig = trusting(s)
			err := j.TagBuild(context.Background(), "Blue_0", conn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), s.Token) {
				t.Errorf("error reveals the token: %v", err)
			}
		})
	}
	if len(s.Tags()) != 0 {
		t.Errorf("tags were added: %v", s.Tags())
	}
}

func TestWriteSummary(t *testing.T) {
	j := azdo.Job{TempDir: t.TempDir()}
	path, err := j.WriteSummary("summary", "## Blue_50\n")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "## Blue_50\n" || !strings.HasPrefix(path, j.TempDir) {
		t.Errorf("summary at %s: %q, %v", path, data, err)
	}
}
