package render

import (
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/mlcanary/mlcanary/internal/config"
)

// defaultProgressDeadline is the API server's progressDeadlineSeconds when a Deployment gives none
// (apps/v1 SetDefaults_Deployment: 600).
const defaultProgressDeadline = 600

// withSettings sets the Deployment-level settings of the template's file (config.DeploymentSettings)
// on spec, and a progress deadline no shorter than timeout (--timeout): the Deployment controller
// declares a rollout failed (ProgressDeadlineExceeded) once its deadline passes without progress,
// and a stage fails at once on that, so a deadline below --timeout would fail a slow model load
// that --timeout allows. The deadline stays unset (the server's 600 s) when neither the file nor a
// --timeout above 600 s asks for another.
func withSettings(spec *appsv1.DeploymentSpec, s config.DeploymentSettings, timeout time.Duration) {
	spec.Strategy = *s.Strategy.DeepCopy()
	spec.MinReadySeconds = s.MinReadySeconds
	spec.RevisionHistoryLimit = s.RevisionHistoryLimit
	spec.ProgressDeadlineSeconds = progressDeadline(s.ProgressDeadlineSeconds, timeout)
}

// progressDeadline is max(the file's deadline (or the server's default), timeout rounded up to a
// second), nil when that is the server's default and the file set none.
func progressDeadline(file *int32, timeout time.Duration) *int32 {
	want := int64(defaultProgressDeadline)
	if file != nil {
		want = int64(*file)
	}
	if t := int64(math.Ceil(timeout.Seconds())); t > want {
		want = t
	}
	if file == nil && want == defaultProgressDeadline {
		return nil
	}
	if want > math.MaxInt32 {
		want = math.MaxInt32
	}
	d := int32(want)
	return &d
}
