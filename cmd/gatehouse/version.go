package main

import (
	"crypto/fips140"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what `gatehouse version` reports, read from the binary.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
	// Crypto is the cryptography the binary was built with: "go" (the
	// standard library's), "boringcrypto" (GOEXPERIMENT=boringcrypto) or
	// "go (FIPS 140-3 mode)".
	Crypto string `json:"crypto"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Crypto: cryptoBuild()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		case "GOEXPERIMENT":
			if s.Value == "boringcrypto" {
				b.Crypto = "boringcrypto"
			}
		}
	}
	return b
}

func cryptoBuild() string {
	if fips140.Enabled() {
		return "go (FIPS 140-3 mode)"
	}
	return "go"
}

func (b buildInfo) String() string {
	rev := b.Revision
	if rev == "" {
		rev = "unknown revision"
	} else if b.Modified {
		rev += " (modified)"
	}
	return fmt.Sprintf("gatehouse %s (%s) %s %s, crypto: %s", b.Version, rev, b.GoVersion, b.Platform, b.Crypto)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision, Go version and crypto build",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			if structured(cmd) {
				return printDoc(cmd, b)
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), b)
			return err
		},
	}
}
