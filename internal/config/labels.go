package config

// The labels mlcanary puts on what it creates and selects pods by, and the scoring container's
// name: vocabulary shared by plan (what a stage may rely on), render (what it writes) and live
// (what it reads back), kept here so none of them depends on another for a name.
const (
	// AppLabel carries App; VersionLabel carries the version (the documented flow's key).
	AppLabel     = "app"
	VersionLabel = "model_version"
	// ManagedByLabel = ManagedBy marks an object mlcanary created. It is set only on objects
	// mlcanary creates and never added to one it adopts, so it records which objects are wholly
	// its own.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "mlcanary"
	// ContainerName is the scoring container's name in the Deployments mlcanary creates; in an
	// adopted Deployment with several containers, the one it updates.
	ContainerName = "model"
)

// Labels returns the labels that identify version v's pods, Deployment and Service, e.g.
// {app: model, model_version: blue}: the Services' selectors and the Deployments' pod labels.
func (c *Config) Labels(v Version) map[string]string {
	return map[string]string{AppLabel: c.App, VersionLabel: string(v)}
}
