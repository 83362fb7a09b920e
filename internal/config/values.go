package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// ParseDecimal is the one parse rule for decimal-number inputs: a finite number in Go's decimal
// syntax (5, 2.5, 1e-3), blanks around it ignored. "NaN", "Inf" and a value too large for a float64
// ("1e400", which strconv turns into +Inf) are refused, because every range check would otherwise
// let NaN through (NaN < lo and NaN > hi are both false) and Inf makes shares 0 or NaN.
func ParseDecimal(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ParseWhole is the parse rule for whole-number inputs: a base-10 int, blanks around it ignored.
func ParseWhole(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// typedValue is a pflag.Value that parses with one of the rules above and refuses what does not
// parse with an *InputError naming the flag and what it allows: the same Allowed text the input's
// range check uses, so a malformed and an out-of-range value read alike. pflag wraps a Set error in
// an InvalidValueError that unwraps to it; the CLI prints the InputError alone (exit 2), and the
// task and action front ends, which call FlagSet.Set, rename and return it.
type typedValue struct {
	name, allowed, typ string
	set                func(string) bool
	show               func() string
}

func (v *typedValue) String() string { return v.show() }
func (v *typedValue) Type() string   { return v.typ }
func (v *typedValue) Set(s string) error {
	if !v.set(s) {
		return &InputError{Input: v.name, Value: s, Allowed: v.allowed}
	}
	return nil
}

// DecimalVar binds a decimal-number flag parsed by ParseDecimal; allowed is the input's one
// description of what it takes (e.g. "a fraction from 0.5 to below 1, e.g. 0.99").
func DecimalVar(fs *pflag.FlagSet, p *float64, name string, value float64, allowed, usage string) {
	*p = value
	fs.Var(&typedValue{name: name, allowed: allowed, typ: "float64",
		set: func(s string) bool {
			f, ok := ParseDecimal(s)
			if ok {
				*p = f
			}
			return ok
		},
		show: func() string { return strconv.FormatFloat(*p, 'g', -1, 64) }}, name, usage)
}

// WholeVarP binds a whole-number flag parsed by ParseWhole (shorthand may be "").
func WholeVarP(fs *pflag.FlagSet, p *int, name, shorthand string, value int, allowed, usage string) {
	*p = value
	fs.VarP(&typedValue{name: name, allowed: allowed, typ: "int",
		set: func(s string) bool {
			n, ok := ParseWhole(s)
			if ok {
				*p = n
			}
			return ok
		},
		show: func() string { return strconv.Itoa(*p) }}, name, shorthand, usage)
}

// DurationVarP binds a duration flag parsed by time.ParseDuration (e.g. 10s, 1m30s).
func DurationVarP(fs *pflag.FlagSet, p *time.Duration, name, shorthand string, value time.Duration, allowed, usage string) {
	*p = value
	f := fs.VarPF(&typedValue{name: name, allowed: allowed, typ: "duration",
		set: func(s string) bool {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err == nil {
				*p = d
			}
			return err == nil
		},
		show: func() string { return p.String() }}, name, shorthand, usage)
	if value == 0 {
		f.DefValue = "0" // what pflag's own duration flags compare, so --help shows no "(default 0s)"
	}
}

// AllowedBool is what every true/false input allows.
const AllowedBool = "true or false"

// BoolVarP binds a true/false flag (given alone, it means true) parsed by strconv.ParseBool.
func BoolVarP(fs *pflag.FlagSet, p *bool, name, shorthand string, value bool, usage string) {
	*p = value
	f := fs.VarPF(&typedValue{name: name, allowed: AllowedBool, typ: "bool",
		set: func(s string) bool {
			b, err := strconv.ParseBool(Choice(s))
			if err == nil {
				*p = b
			}
			return err == nil
		},
		show: func() string { return strconv.FormatBool(*p) }}, name, shorthand, usage)
	f.NoOptDefVal = "true"
}

// AllowedForType describes what a flag of pflag type typ takes, for flags mlcanary does not define
// itself (cobra's --help, the completion command's flags).
func AllowedForType(typ string) string {
	switch typ {
	case "bool":
		return AllowedBool
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number, e.g. 5 or 2.5"
	case "duration":
		return "a duration, e.g. 10s"
	}
	return "a value this flag accepts"
}

// SetError is the *InputError for value v that flag f's Set refused with err, naming the input as
// name (the flag, task input or action input the user typed): the flag's own *InputError when Set
// returned one (so a malformed value reads as an out-of-range one does), else one built from the
// flag's pflag type. f may be nil (then the type is unknown).
func SetError(err error, f *pflag.Flag, name, v string) *InputError {
	if in := (*InputError)(nil); errors.As(err, &in) {
		return in
	}
	typ := ""
	if f != nil {
		typ = f.Value.Type()
	}
	return &InputError{Input: name, Value: v, Allowed: AllowedForType(typ)}
}
