package aks_test

import clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

// clientcmdExec is the exec section `az aks get-credentials` writes for Entra ID clusters.
var clientcmdExec = clientcmdapi.ExecConfig{
	APIVersion: "client.authentication.k8s.io/v1beta1",
	Command:    "kubelogin",
	Args:       []string{"get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"},
}
