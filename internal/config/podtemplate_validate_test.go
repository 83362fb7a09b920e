package config

import (
	"errors"
	"strings"
	"testing"
)

// TestInvalidPodSpecIsBadInput (breakit9 G20): a pod template the API server would reject is bad
// input found when the file is read — exit 2, one line naming the file and the field — not a
// failed stage after Blue_0 has created blue's Service. Each case is a rule of Kubernetes' pod
// validation; the valid neighbours of each are accepted.
func TestInvalidPodSpecIsBadInput(t *testing.T) {
	base := "spec:\n  containers:\n    - name: model\n      image: x\n"
	for name, tc := range map[string]struct{ extra, field string }{
		"requests above limits":         {"      resources: {requests: {cpu: \"2\"}, limits: {cpu: \"1\"}}\n", "spec.containers[model].resources.requests.cpu 2 above limits 1"},
		"memory request above limit":    {"      resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}\n", "resources.requests.memory 2Gi"},
		"GPU requested without a limit": {"      resources: {requests: {nvidia.com/gpu: \"1\"}}\n", "resources.requests.nvidia.com/gpu 1"},
		"GPU request below its limit":   {"      resources: {requests: {nvidia.com/gpu: \"1\"}, limits: {nvidia.com/gpu: \"2\"}}\n", "resources.requests.nvidia.com/gpu 1"},
		"half a GPU":                    {"      resources: {limits: {nvidia.com/gpu: 500m}}\n", "resources.limits.nvidia.com/gpu 500m"},
		"negative cpu":                  {"      resources: {requests: {cpu: \"-1\"}}\n", "resources.requests.cpu -1"},
		"sidecar without image":         {"    - name: log-shipper\n", "spec.containers[log-shipper].image empty"},
		"init container without image":  {"  initContainers:\n    - name: fetch-model\n", "spec.initContainers[fetch-model].image empty"},
		"port name too long":            {"      ports: [{name: http-scoring-endpoint, containerPort: 5001}]\n", "ports[0].name http-scoring-endpoint"},
		"port name in upper case":       {"      ports: [{name: HTTP, containerPort: 5001}]\n", "ports[0].name HTTP"},
		"port name twice":               {"      ports: [{name: http, containerPort: 5001}, {name: http, containerPort: 9090}]\n", "ports[1].name http (twice)"},
		"container port 0":              {"      ports: [{containerPort: 5001}, {containerPort: 0}]\n", "ports[1].containerPort 0"},
		"host port too large":           {"      ports: [{containerPort: 5001, hostPort: 70000}]\n", "hostPort 70000"},
		"duplicate containers":          {"    - name: model\n      image: busybox\n", "spec.containers[1].name model (twice)"},
		"init container named as one":   {"  initContainers:\n    - name: model\n      image: busybox\n", "spec.containers[0].name model (twice)"},
		"container name in upper case":  {"    - name: LogShipper\n      image: busybox\n", "spec.containers[1].name LogShipper"},
		"mount of a missing volume":     {"      volumeMounts: [{name: models, mountPath: /models}]\n", "volumeMounts[0].name models"},
		"mount without a path":          {"      volumeMounts: [{name: models}]\n  volumes: [{name: models, emptyDir: {}}]\n", "volumeMounts[0].mountPath empty"},
		"volume twice":                  {"  volumes: [{name: models, emptyDir: {}}, {name: models, emptyDir: {}}]\n", "spec.volumes[1].name models (twice)"},
		"volume name with a dot":        {"  volumes: [{name: models.v1, emptyDir: {}}]\n", "spec.volumes[0].name models.v1"},
		"restartPolicy OnFailure":       {"  restartPolicy: OnFailure\n", "spec.restartPolicy OnFailure"},
	} {
		t.Run(name, func(t *testing.T) {
			c := Default()
			c.Container = "model"
			_, err := ParsePodTemplate("deploy/model.yaml", []byte(base+tc.extra), &c)
			var in *InputError
			if !errors.As(err, &in) || in.Input != FlagPodTemplate || in.Value != "deploy/model.yaml" || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("%v; want bad input naming deploy/model.yaml and %q", err, tc.field)
			}
		})
	}
	for name, extra := range map[string]string{
		"requests equal to limits":          "      resources: {requests: {cpu: \"1\", memory: 1Gi}, limits: {cpu: \"1\", memory: 1Gi}}\n",
		"requests below limits":             "      resources: {requests: {cpu: 500m}, limits: {cpu: \"1\"}}\n",
		"a GPU limit alone":                 "      resources: {limits: {nvidia.com/gpu: \"1\"}}\n",
		"a GPU request equal to its limit":  "      resources: {requests: {nvidia.com/gpu: \"2\"}, limits: {nvidia.com/gpu: \"2\"}}\n",
		"a 15-character port name":          "      ports: [{name: http-scoring-ep, containerPort: 5001}]\n",
		"a scoring container without image": "",
		"a mounted volume":                  "      volumeMounts: [{name: models, mountPath: /models}]\n  volumes: [{name: models, emptyDir: {}}]\n",
		"restartPolicy Always":              "  restartPolicy: Always\n",
		"an init container with an image":   "  initContainers:\n    - name: fetch-model\n      image: busybox\n",
	} {
		t.Run("accepted: "+name, func(t *testing.T) {
			c := Default()
			c.Container = "model"
			if _, err := ParsePodTemplate("deploy/model.yaml", []byte(strings.Replace(base, "      image: x\n", "", map[bool]int{true: 1, false: 0}[extra == ""])+extra), &c); err != nil {
				t.Fatal(err)
			}
		})
	}
}
