package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mxray/mxray/report"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand. run returns the process exit code.
type command struct {
	name    string
	summary string
	usage   string // "mxray check DOMAIN [flags]"
	order   int
	run     func(ctx context.Context, io IO, args []string) int
}

// IO is where a command reads and writes; tests pass buffers.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Env            func(string) string
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, stdio IO, args []string) int {
	if len(args) == 0 {
		usage(stdio.Stderr)
		return report.ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, stdio, []string{"--help"})
			}
		}
		usage(stdio.Stdout)
		return report.ExitOK
	case "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stdio.Stderr, "mxray: unknown command %q (try 'mxray --help')\n", args[0])
		return report.ExitUsage
	}
	if nagiosRequested(args[1:]) {
		return runAsPlugin(ctx, stdio, c, args)
	}
	return c.run(ctx, stdio, args[1:])
}

// nagiosRequested: the arguments ask for --format nagios.
func nagiosRequested(args []string) bool {
	for i, a := range args {
		if a == "--format=nagios" || (a == "--format" && i+1 < len(args) && args[i+1] == "nagios") {
			return true
		}
	}
	return false
}

// runAsPlugin runs a command whose output a monitoring system reads as a
// plugin's. The Monitoring Plugins guidelines want every outcome on
// standard output with exit codes 0-3: a usage error, or an error before
// any report (no resolver), becomes "MXRAY CMD UNKNOWN - <error>" with exit
// 3 instead of a line on stderr and exit 64, which Nagios and Icinga show
// as "out of bounds".
func runAsPlugin(ctx context.Context, stdio IO, c command, args []string) int {
	var errBuf bytes.Buffer
	out := &countingWriter{w: stdio.Stdout}
	code := c.run(ctx, IO{Stdin: stdio.Stdin, Stdout: out, Stderr: io.MultiWriter(stdio.Stderr, &errBuf), Env: stdio.Env}, args[1:])
	if code == report.ExitUsage || (out.n == 0 && code != report.ExitOK) {
		msg, _, _ := strings.Cut(strings.TrimSpace(errBuf.String()), "\n")
		msg = strings.TrimPrefix(msg, "mxray "+c.name+": ")
		if msg == "" {
			msg = "no report was made"
		}
		fmt.Fprintf(stdio.Stdout, "MXRAY %s UNKNOWN - %s\n", strings.ToUpper(c.name), strings.ReplaceAll(msg, "|", "/"))
		return report.ExitUnknown
	}
	return code
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mxray — an active mail-server health checker")
	fmt.Fprintln(w, "\nUsage: mxray COMMAND [ARGS] [FLAGS]\n\nCommands:")
	cs := make([]command, 0, len(commands))
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].order != cs[j].order {
			return cs[i].order < cs[j].order
		}
		return cs[i].name < cs[j].name
	})
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mxray COMMAND --help' for a command's flags.")
	fmt.Fprint(w, exitCodeHelp)
}

const exitCodeHelp = `
Exit codes:
  0   every finding ok or info
  1   at least one warning (nothing failed, nothing unknown)
  2   at least one failure
  3   something could not be checked (timeout, SERVFAIL, port 25 blocked), nothing failed
  64  usage error: bad flag or malformed input
`

// usageError prints a one-line error and returns the usage exit code.
func usageError(stdio IO, cmd string, format string, a ...any) int {
	fmt.Fprintf(stdio.Stderr, "mxray %s: %s\n", cmd, strings.TrimRight(fmt.Sprintf(format, a...), "\n"))
	return report.ExitUsage
}
