// Package version says which raftkv this is: the version and commit set at
// build time (-ldflags "-X github.com/raftkv/raftkv/internal/version.Version=v1.2.3"),
// else what the Go toolchain recorded of the module and its VCS state.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are set with -ldflags -X at build time; empty, they
// come from the build information.
var (
	Version string
	Commit  string
)

// Info is what a build is.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Get returns this build's Info.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is the one line --version prints.
func (i Info) String() string {
	return fmt.Sprintf("raftkv %s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}
