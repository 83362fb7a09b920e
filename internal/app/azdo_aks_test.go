package app

import (
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlcanary/mlcanary/internal/aks"
	"github.com/mlcanary/mlcanary/internal/aks/akstest"
	"github.com/mlcanary/mlcanary/internal/azdo/azdotest"
)

// TestAKSTaskThroughLauncher runs the task through an Azure Resource Manager connection as the agent
// does: Entra ID and ARM are local HTTPS servers speaking the documented token, OIDC and
// listCluster*Credential endpoints; the kubeconfig ARM returns points at a real API server.
func TestAKSTaskThroughLauncher(t *testing.T) {
	task := launcher(t)
	e := shared.Env(t)
	e.StartController(t)
	org := azdotest.Start(t)
	cloud := akstest.Start(t)
	const ns = "abtest-aks"
	token := pipelineToken(t, e, ns)
	admin, err := os.ReadFile(e.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	cloud.Kubeconfigs["clusterAdmin"] = admin
	cloud.Kubeconfigs["clusterUser"] = tokenKubeconfig(t, e.Config.Host, e.Config.CAData, token)
	id := cloud.ConnectionID
	base := map[string]string{
		"INPUT_CONNECTIONTYPE":                                  "azureResourceManager",
		"INPUT_AZURESUBSCRIPTIONCONNECTION":                     id,
		"INPUT_AZURERESOURCEGROUP":                              cloud.ResourceGroup,
		"INPUT_KUBERNETESCLUSTER":                               cloud.Cluster,
		"INPUT_NAMESPACE":                                       ns,
		"INPUT_TIMEOUT":                                         "60",
		"ENDPOINT_URL_" + id:                                    cloud.URL + "/",
		"ENDPOINT_AUTH_PARAMETER_" + id + "_TENANTID":           cloud.Tenant,
		"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALID": cloud.ClientID,
		"ENDPOINT_DATA_" + id + "_SUBSCRIPTIONID":               cloud.Subscription,
		"ENDPOINT_DATA_" + id + "_ENVIRONMENTAUTHORITYURL":      cloud.URL + "/",
		"SYSTEM_OIDCREQUESTURI":                                 cloud.URL + "/oidc",
	}
	steps := []struct {
		name, stage string
		env         map[string]string
		wantCalls   string
	}{
		{"workload identity federation, admin credential", "Blue_0", map[string]string{
			"ENDPOINT_AUTH_SCHEME_" + id: aks.SchemeWorkloadIdentity, "INPUT_USECLUSTERADMIN": "true", "INPUT_IMAGE": "myacr.azurecr.io/model:7"},
			"POST /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1/listClusterAdminCredential"},
		{"service principal secret, user credential", "Blue_50", map[string]string{
			"ENDPOINT_AUTH_SCHEME_" + id: aks.SchemeServicePrincipal, "ENDPOINT_AUTH_PARAMETER_" + id + "_AUTHENTICATIONTYPE": "spnKey",
			"ENDPOINT_AUTH_PARAMETER_" + id + "_SERVICEPRINCIPALKEY": cloud.Secret, "INPUT_USECLUSTERADMIN": "false"},
			"POST /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1/listClusterUserCredential"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			env := jobEnv(t, org, cloud.Certificate())
			for _, m := range []map[string]string{base, s.env} {
				for k, v := range m {
					env[k] = v
				}
			}
			env["INPUT_STAGE"] = s.stage
			r := runTask(t, task, env)
			if r.code != 0 {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if got := r.outputs()["stage"]; got != s.stage {
				t.Errorf("output stage %q, want %s", got, s.stage)
			}
			if !slices.Contains(cloud.Calls(), s.wantCalls) {
				t.Errorf("ARM calls %v lack %s", cloud.Calls(), s.wantCalls)
			}
			if !strings.Contains(r.stdout, "AKS cluster rg-1/aks-1") {
				t.Errorf("the log does not say which cluster:\n%s", r.stdout)
			}
			secrets := append(cloud.Issued(), cloud.Secret, cloud.OIDCToken, org.Token, token)
			held := []string{org.Token}
			if s.env["ENDPOINT_AUTH_PARAMETER_"+id+"_SERVICEPRINCIPALKEY"] != "" {
				held = append(held, cloud.Secret, token)
			}
			r.checkSecrets(t, secrets, held)
		})
	}
}

// tokenKubeconfig is a kubeconfig that authenticates with a bearer token, as AKS returns for
// clusters with local accounts.
func tokenKubeconfig(t *testing.T, server string, ca []byte, token string) []byte {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["aks"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["aks"] = &clientcmdapi.Context{Cluster: "aks", AuthInfo: "user"}
	kc.CurrentContext = "aks"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
