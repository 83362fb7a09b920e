package config

import "fmt"

// InputError is bad input: the run stops before contacting a cluster and exits with code 2.
type InputError struct {
	// Input names the flag or task input, without dashes (e.g. "stage", "image").
	Input string
	// Value is what was given; it is never a secret (secret inputs are not validated this way).
	Value string
	// Allowed says what would be accepted.
	Allowed string
}

var _ error = (*InputError)(nil)

// Error reads as one sentence naming the input, the value and what is allowed.
func (e *InputError) Error() string {
	return fmt.Sprintf("invalid %s %q: allowed: %s", e.Input, e.Value, e.Allowed)
}
