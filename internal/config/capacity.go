package config

// CapacityCheck says what a stage does when a version about to get a larger share of the default
// route has fewer ready replicas than that share needs (plan.CapacityShortfall; README "Autoscaling").
type CapacityCheck string

// The values of --capacity-check. CapacityAuto, the default, is CapacityEnforce unless an
// autoscaler (a HorizontalPodAutoscaler or KEDA ScaledObject) scales the version, then
// CapacityWarn: the autoscaler adds replicas as the traffic arrives.
const (
	CapacityAuto    CapacityCheck = "auto"
	CapacityOff     CapacityCheck = "off"
	CapacityWarn    CapacityCheck = "warn"
	CapacityEnforce CapacityCheck = "enforce"
)

// FlagCapacityCheck is the --capacity-check flag (task input capacityCheck, action input
// capacity-check).
const FlagCapacityCheck = "capacity-check"

// allowedCapacityCheck is what --capacity-check accepts, said once for every front end.
const allowedCapacityCheck = "auto (enforce, or warn when an autoscaler scales the version), off, warn or enforce"

// capacityCheckInput parses --capacity-check: one of the four words, read by Choice.
func capacityCheckInput(v string) (CapacityCheck, error) {
	switch c := CapacityCheck(Choice(v)); c {
	case CapacityAuto, CapacityOff, CapacityWarn, CapacityEnforce:
		return c, nil
	}
	return "", &InputError{Input: FlagCapacityCheck, Value: v, Allowed: allowedCapacityCheck}
}
