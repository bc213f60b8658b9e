package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/mxray/mxray/report"
)

func init() {
	register(command{name: "version", order: 100, summary: "print the version", usage: "mxray version", run: func(ctx context.Context, stdio IO, args []string) int {
		fs := newFlagSet("version", stdio, "mxray version", "Prints mxray's version, the JSON schema version and the Go version.")
		if code, done := parseFlags(fs, stdio, "version", args); done {
			return code
		}
		fmt.Fprintf(stdio.Stdout, "mxray %s (json schema %d, %s)\n", version, report.SchemaVersion, runtime.Version())
		return report.ExitOK
	}})
}
