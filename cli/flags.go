package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// EnvPrefix starts the name of the environment variable of every flag:
// --data-dir is RAFTKV_DATA_DIR, --endpoints RAFTKV_ENDPOINTS.
const EnvPrefix = "RAFTKV_"

// EnvName is the environment variable that gives the flag name a value:
// RAFTKV_ and the name in upper case, dashes turned into underscores.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// ApplyEnv gives each flag of fs that the command line did not set the
// value of its environment variable (EnvName), when getenv returns one
// that is not empty: the command line wins over the environment. Flags for
// which skip returns true (such as --help and --version) are left alone; a
// nil skip skips none. It returns the names of the flags it set, and an
// error naming the variable of a value the flag refuses.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string, skip func(name string) bool) ([]string, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var set []string
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || (skip != nil && skip(f.Name)) {
			return
		}
		v := getenv(EnvName(f.Name))
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: invalid value for --%s: %w", EnvName(f.Name), v, f.Name, err))
			return
		}
		set = append(set, f.Name)
	})
	return set, errors.Join(errs...)
}

// boolFlag is the interface of the flag.Value of a flag that takes no
// value (flag's own, unexported).
type boolFlag interface{ IsBoolFlag() bool }

// parseInterspersed parses the flags of args with fs wherever they stand,
// before, between or after the positional arguments, and returns the
// positional ones. "--" ends the flags: everything after it is positional
// (a key that starts with a dash), and so is "-" alone (stdin).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if f == nil || hasValue {
			continue
		}
		if b, ok := f.Value.(boolFlag); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return positional, nil
}

// isSet tells whether the command line (or ApplyEnv) set the flag name.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// globalFlags are the flags every command that talks to a cluster takes,
// which may also stand before the command (raftkv --endpoints URLS get KEY,
// as etcdctl takes them).
var globalFlags = map[string]bool{"endpoints": true, "timeout": true, "o": true}

// CommandLine tells whether args (without the program name) are a command
// for a cluster rather than a member's flags — a command first, or global
// flags (--endpoints, --timeout, -o) and then a command — and returns them
// as Run takes them: the command first, the global flags after it (before
// a "--", which ends the flags).
func CommandLine(args []string) ([]string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil, false
		}
		if !strings.HasPrefix(a, "-") {
			leading, rest := args[:i], args[i:]
			end := len(rest)
			for j, r := range rest {
				if r == "--" {
					end = j
					break
				}
			}
			out := append(append(append([]string{}, rest[:end]...), leading...), rest[end:]...)
			return out, true
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !globalFlags[name] {
			return nil, false
		}
		if !hasValue {
			i++ // its value is the next argument
		}
	}
	return nil, false
}
