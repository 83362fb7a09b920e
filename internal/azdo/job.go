package azdo

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/mlcanary/mlcanary/internal/frontend"
)

// Job is what the agent says about the running job: where to write files, how to call Azure DevOps
// back, and which run this is.
type Job struct {
	// TempDir is AGENT_TEMPDIRECTORY, cleaned after every job; the summary file lives there.
	TempDir string
	// CollectionURL is the organization URL (SYSTEM_TEAMFOUNDATIONCOLLECTIONURI).
	CollectionURL string
	// AccessToken is the job's OAuth token from the system connection; a secret.
	AccessToken string
	// ProjectID, ProjectName and BuildID identify the run; BuildID is 0 outside build pipelines.
	ProjectID, ProjectName string
	BuildID                int
	// ReleaseURL is the release's web page in classic release pipelines (RELEASE_RELEASEWEBURL).
	ReleaseURL string
}

// ReadJob reads the job's context from the agent's variables.
func ReadJob(env frontend.LookupEnv) Job {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := env(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	j := Job{
		TempDir:       get("AGENT_TEMPDIRECTORY"),
		CollectionURL: get("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "SYSTEM_COLLECTIONURI", "ENDPOINT_URL_SYSTEMVSSCONNECTION"),
		AccessToken:   get("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN", "SYSTEM_ACCESSTOKEN"),
		ProjectID:     get("SYSTEM_TEAMPROJECTID"),
		ProjectName:   get("SYSTEM_TEAMPROJECT"),
		ReleaseURL:    get("RELEASE_RELEASEWEBURL"),
	}
	j.BuildID, _ = strconv.Atoi(get("BUILD_BUILDID"))
	return j
}

// RunURL is the link to this pipeline run (or classic release), recorded on the cluster as who
// changed traffic; empty when the agent did not say which run this is.
func (j Job) RunURL() string {
	if j.ReleaseURL != "" {
		return j.ReleaseURL
	}
	if j.CollectionURL == "" || j.BuildID == 0 {
		return ""
	}
	project := j.ProjectName
	if project == "" {
		project = j.ProjectID
	}
	return fmt.Sprintf("%s/%s/_build/results?buildId=%d", strings.TrimSuffix(j.CollectionURL, "/"), url.PathEscape(project), j.BuildID)
}

// WriteSummary writes the run summary Markdown to a file in the agent's temp directory (which the
// agent uploads after the command, so the file must outlive the process) and returns its path.
func (j Job) WriteSummary(name, markdown string) (string, error) {
	dir := j.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("mlcanary-%s-%d.md", name, time.Now().UnixNano()))
	if err := os.WriteFile(path, []byte(markdown), 0o644); err != nil {
		return "", fmt.Errorf("writing the run summary: %w", err)
	}
	return path, nil
}

// TagBuild adds tag to the build through the Build REST API, authenticated with the job's access
// token. Release and other non-build runs have no build to tag; that is reported as an error the
// caller turns into a warning, never a failed stage.
func (j Job) TagBuild(ctx context.Context, tag string, conn *azuredevops.Connection) error {
	if j.BuildID == 0 || j.ProjectID == "" || j.CollectionURL == "" {
		return fmt.Errorf("tagging the run %q: not a build run (BUILD_BUILDID, SYSTEM_TEAMPROJECTID or SYSTEM_TEAMFOUNDATIONCOLLECTIONURI is unset)", tag)
	}
	if j.AccessToken == "" {
		return fmt.Errorf("tagging the run %q: the job access token is unavailable", tag)
	}
	if conn == nil {
		conn = j.Connection()
	}
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return fmt.Errorf("tagging the run %q: connecting to %s: %w", tag, j.CollectionURL, err)
	}
	id := j.BuildID
	if _, err := client.AddBuildTag(ctx, build.AddBuildTagArgs{Project: &j.ProjectID, BuildId: &id, Tag: &tag}); err != nil {
		return fmt.Errorf("tagging the run %q: %w", tag, err)
	}
	return nil
}

// Connection is an Azure DevOps connection authenticated with the job's access token (a bearer
// token, not a PAT), with a bounded timeout so tagging cannot hold up a stage.
func (j Job) Connection() *azuredevops.Connection {
	conn := azuredevops.NewAnonymousConnection(j.CollectionURL)
	conn.AuthorizationString = "Bearer " + j.AccessToken
	timeout := 30 * time.Second
	conn.Timeout = &timeout
	return conn
}
