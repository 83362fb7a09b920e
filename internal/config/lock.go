package config

import (
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Lock is the namespace's lock a stage that writes holds: a coordination.k8s.io/v1 Lease (package
// lock), so one release per namespace acts at a time.
type Lock struct {
	// Name is the Lease's name in the stage's namespace (--lock-name, default DefaultLockName).
	Name string
	// Timeout is how long a stage waits for a lock another run holds (--lock-timeout); 0 fails at
	// once, naming the holder.
	Timeout time.Duration
	// Holder is who takes the lock: the pipeline run's URL, or user@host outside a pipeline
	// (frontend.Identity). The front end sets it; it is not an input.
	Holder string
}

// DefaultLockName is the Lease every mlcanary release in a namespace shares by default.
const DefaultLockName = "mlcanary"

// Flag names of the lock's inputs (lockName, lockTimeout in the Azure DevOps task).
const (
	FlagLockName    = "lock-name"
	FlagLockTimeout = "lock-timeout"
)

const allowedLockTimeout = "0 (fail at once when another run holds the lock) or a duration up to 24h, such as 5m, 90s or 1h (a bare number means seconds)"

// addLockFlags binds the lock's inputs to fs.
func (in *Inputs) addLockFlags(fs *pflag.FlagSet) {
	fs.StringVar(&in.LockName, FlagLockName, DefaultLockName, "name of the Lease that lets one stage at a time write in the namespace")
	fs.StringVar(&in.LockTimeout, FlagLockTimeout, "0", "how long to wait for the lock another run holds, e.g. 10m (0: fail at once)")
}

// fillLock parses the lock's inputs into c.
func (in *Inputs) fillLock(c *Config) error {
	c.Lock.Name = strings.TrimSpace(in.LockName)
	d, ok := parseWait(in.LockTimeout, true) // as --timeout, and 0: fail at once
	if !ok {
		return &InputError{Input: FlagLockTimeout, Value: in.LockTimeout, Allowed: allowedLockTimeout}
	}
	c.Lock.Timeout = d
	return nil
}

// validateLock checks the Lease name and the wait.
func (c *Config) validateLock() error {
	if err := dns1123Subdomain(FlagLockName, c.Lock.Name); err != nil {
		return err
	}
	if c.Lock.Timeout < 0 || c.Lock.Timeout > maxTimeout {
		return &InputError{Input: FlagLockTimeout, Value: c.Lock.Timeout.String(), Allowed: allowedLockTimeout}
	}
	return nil
}
