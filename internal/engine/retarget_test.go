package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestRetarget is the rule a copy of green's autoscaler follows to scale blue on blue's own load
// (G5), and Blue_Green's hand-over back: each case is a metric (HPA) or trigger metadata (KEDA) of
// green's, what blue's copy says, and what cannot be rewritten.
func TestRetarget(t *testing.T) {
	green := workload{deployment: "model-green", service: "model-svc-green", version: "green"}
	blue := workload{deployment: "model-blue", service: "model-svc-blue", version: "blue"}
	for _, c := range []struct {
		name, in, want, problem string
		keda                    bool
	}{
		{name: "Object metric of green's Service",
			in:   `{type: Object, object: {describedObject: {apiVersion: v1, kind: Service, name: model-svc-green}, metric: {name: istio_requests_per_second}, target: {type: Value, value: "50"}}}`,
			want: `{"object":{"describedObject":{"apiVersion":"v1","kind":"Service","name":"model-svc-blue"},"metric":{"name":"istio_requests_per_second"},"target":{"type":"Value","value":"50"}},"type":"Object"}`},
		{name: "Object metric of green's Deployment",
			in:   `{type: Object, object: {describedObject: {apiVersion: apps/v1, kind: Deployment, name: model-green}, metric: {name: rps}, target: {type: Value, value: "5"}}}`,
			want: `{"object":{"describedObject":{"apiVersion":"apps/v1","kind":"Deployment","name":"model-blue"},"metric":{"name":"rps"},"target":{"type":"Value","value":"5"}},"type":"Object"}`},
		{name: "External metric selecting destination_workload",
			in:   `{type: External, external: {metric: {name: istio_requests_total, selector: {matchLabels: {destination_workload: model-green, destination_app: model}}}, target: {type: AverageValue, averageValue: "50"}}}`,
			want: `{"external":{"metric":{"name":"istio_requests_total","selector":{"matchLabels":{"destination_app":"model","destination_workload":"model-blue"}}},"target":{"averageValue":"50","type":"AverageValue"}},"type":"External"}`},
		{name: "version labels in matchLabels and matchExpressions",
			in:   `{type: Pods, pods: {metric: {name: rps, selector: {matchLabels: {model_version: green, service.istio.io/canonical-revision: green}, matchExpressions: [{key: destination_canonical_revision, operator: In, values: [green]}]}}, target: {type: AverageValue, averageValue: "10"}}}`,
			want: `{"pods":{"metric":{"name":"rps","selector":{"matchExpressions":[{"key":"destination_canonical_revision","operator":"In","values":["blue"]}],"matchLabels":{"model_version":"blue","service.istio.io/canonical-revision":"blue"}}},"target":{"averageValue":"10","type":"AverageValue"}},"type":"Pods"}`},
		{name: "a selector on both versions measures both and is kept",
			in:   `{type: External, external: {metric: {name: rps, selector: {matchExpressions: [{key: destination_workload, operator: In, values: [model-green, model-blue]}]}}, target: {type: Value, value: "5"}}}`,
			want: `{"external":{"metric":{"name":"rps","selector":{"matchExpressions":[{"key":"destination_workload","operator":"In","values":["model-green","model-blue"]}]}},"target":{"type":"Value","value":"5"}},"type":"External"}`},
		{name: "CPU names nothing", in: `{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}`,
			want: `{"resource":{"name":"cpu","target":{"averageUtilization":70,"type":"Utilization"}},"type":"Resource"}`},
		{name: "a label value green under a key that is no version's",
			in:      `{type: External, external: {metric: {name: rps, selector: {matchLabels: {slot: green}}}, target: {type: Value, value: "5"}}}`,
			want:    `{"external":{"metric":{"name":"rps","selector":{"matchLabels":{"slot":"green"}}},"target":{"type":"Value","value":"5"}},"type":"External"}`,
			problem: "metric 1 (External rps) names green: green"},
		{name: "KEDA prometheus query", keda: true,
			in:   `{query: 'sum(rate(istio_requests_total{destination_workload="model-green",destination_version="green",reporter="destination"}[1m]))', threshold: "50"}`,
			want: `{"query":"sum(rate(istio_requests_total{destination_workload=\"model-blue\",destination_version=\"blue\",reporter=\"destination\"}[1m]))","threshold":"50"}`},
		{name: "KEDA query on green's Service host and pods", keda: true,
			in:   `{query: 'sum(rate(istio_requests_total{destination_service="model-svc-green.ns.svc.cluster.local"}[1m])) / count(kube_pod_info{pod=~"model-green-.*"})'}`,
			want: `{"query":"sum(rate(istio_requests_total{destination_service=\"model-svc-blue.ns.svc.cluster.local\"}[1m])) / count(kube_pod_info{pod=~\"model-blue-.*\"})"}`},
		{name: "KEDA workload trigger's pod selector", keda: true,
			in: `{podSelector: "app=model,model_version=green", value: "2"}`, want: `{"podSelector":"app=model,model_version=blue","value":"2"}`},
		{name: "KEDA query on the whole app is shared and kept", keda: true,
			in: `{query: 'sum(rate(istio_requests_total{destination_app="model"}[1m]))'}`, want: `{"query":"sum(rate(istio_requests_total{destination_app=\"model\"}[1m]))"}`},
		{name: "KEDA queue named after green", keda: true,
			in: `{queueName: scoring-green, messageCount: "5"}`, want: `{"messageCount":"5","queueName":"scoring-green"}`,
			problem: "trigger 1 (azure-servicebus) metadata.queueName names green: scoring-green"},
		{name: "another Deployment whose name starts like green's is no reference to it", keda: true,
			in: `{query: 'sum(rate(x{destination_workload="model-green2"}[1m]))'}`, want: `{"query":"sum(rate(x{destination_workload=\"model-green2\"}[1m]))"}`},
		{name: "a name with green as a part of it cannot be told from a reference", keda: true,
			in: `{query: 'sum(rate(x{destination_workload="model-green-batch"}[1m]))'}`, want: `{"query":"sum(rate(x{destination_workload=\"model-green-batch\"}[1m]))"}`,
			problem: "trigger 1 (azure-servicebus) metadata.query names green: model-green-batch"},
		{name: "a credential's value is not shown", keda: true,
			in: `{password: green-secret}`, want: `{"password":"green-secret"}`,
			problem: "trigger 1 (azure-servicebus) metadata.password names green: (value not shown)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var item map[string]any
			if err := yaml.Unmarshal([]byte(c.in), &item); err != nil {
				t.Fatal(err)
			}
			spec := map[string]any{"metrics": []any{item}}
			gvr := hpas
			if c.keda {
				spec = map[string]any{"triggers": []any{map[string]any{"type": "azure-servicebus", "metadata": item}}}
				gvr = scaledObjects
			}
			_, problems := retarget(gvr, spec, green, blue)
			got, _ := json.Marshal(item)
			if string(got) != c.want {
				t.Errorf("copy for blue:\n got %s\nwant %s", got, c.want)
			}
			if strings.Join(problems, "; ") != c.problem {
				t.Errorf("problems %q, want %q", problems, c.problem)
			}
			if c.problem != "" {
				return
			}
			// Blue_Green's hand-over gives green blue's settings: rewritten back, they are green's again.
			if _, back := retarget(gvr, spec, blue, green); len(back) > 0 {
				t.Errorf("hand-over back to green: problems %q", back)
			}
			var orig map[string]any
			_ = yaml.Unmarshal([]byte(c.in), &orig)
			o, _ := json.Marshal(orig)
			if got, _ := json.Marshal(item); string(got) != string(o) {
				t.Errorf("hand-over back to green:\n got %s\nwant %s", got, o)
			}
		})
	}
}
