// Command agctl is the AstraGuard client: it replays CSV telemetry (NAB
// format) through DetectorService.Detect and writes NAB-scorable result
// files, and it inspects and steers the service's circuit breakers through
// BreakerAdmin.
//
// Run "agctl help" for usage. Exit status: 0 on success, 1 on failure, 2 on
// a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"google.golang.org/grpc"

	"github.com/astraguard/astraguard/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(exitCode(err, os.Stderr))
	}
}

// exitCode reports err on w and returns the process exit status.
func exitCode(err error, w io.Writer) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(w, "agctl:", printableLines(err.Error()))
		return 2
	}
	fmt.Fprintln(w, "agctl:", printableLines(err.Error())) // may quote a server's message
	return 1
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

// usageError wraps a command-line mistake so it matches errUsage.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// run executes one agctl command line (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := &cli{
		stdout:   stdout,
		stderr:   stderr,
		getenv:   os.Getenv,
		terminal: isTerminal(stderr),
	}
	return c.run(ctx, args)
}

// cli carries what every command needs; tests build one with a bufconn
// dialer in dialOpts.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	terminal       bool              // stderr is a terminal: draw a progress bar
	dialOpts       []grpc.DialOption // extra dial options (tests)
}

func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		c.usage(c.stderr)
		return usageError("no command given")
	}
	args, err := hoistCommonFlags(args)
	if err != nil {
		c.usage(c.stderr)
		return err
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		return c.help(rest)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(c.stdout, version.Get().String("agctl"))
		return err
	case "replay":
		return c.replay(ctx, rest)
	case "breakers", "breaker":
		return c.breakers(ctx, rest)
	default:
		c.usage(c.stderr)
		return usageError("unknown command %q", cmd)
	}
}

// hoistCommonFlags moves the common flags given before the command
// ("agctl --addr X breakers get model") behind it, where every command
// parses them, so they may come before or after the subcommand. Help and
// version words stay where they are.
func hoistCommonFlags(args []string) ([]string, error) {
	common := flag.NewFlagSet("agctl", flag.ContinueOnError)
	new(connFlags).register(common, 0)
	var lead []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if a == "help" || a == "version" { // they take no flags
				return args[i:], nil
			}
			return append(append([]string{a}, lead...), args[i+1:]...), nil
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "h", "help", "version":
			if len(lead) == 0 {
				return args, nil
			}
		}
		f := common.Lookup(name)
		if f == nil {
			return nil, usageError("flag %s before the command is not a common flag (put a command's own flags after it)", a)
		}
		lead = append(lead, a)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); hasValue || (ok && b.IsBoolFlag()) {
			continue
		}
		if i+1 == len(args) {
			return nil, usageError("flag %s needs a value", a)
		}
		i++
		lead = append(lead, args[i])
	}
	return nil, usageError("no command given")
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

const mainUsage = `agctl is the AstraGuard client.

Usage:
  agctl replay --data DIR --out OUT [flags]   replay NAB-format CSVs through Detect
  agctl breakers list|get|reset|force|watch   inspect and steer circuit breakers
  agctl help [COMMAND]                        show help for a command
  agctl version                               print the version and exit (also --version)

Common flags (before or after the command):
  --addr HOST:PORT   service address (env AGCTL_ADDR, default 127.0.0.1:50051)
  --token TOKEN      send "authorization: Bearer TOKEN" (env AGCTL_TOKEN)
  --token-file FILE  read the token from FILE (env AGCTL_TOKEN_FILE; not shown in ps)
  --tls-ca FILE      use TLS, verifying the service with this CA (env AGCTL_TLS_CA;
                     --tls alone uses the system roots; default plaintext)
  --tls-cert FILE, --tls-key FILE   client certificate for mutual TLS
  --tls-server-name NAME            name expected in the service's certificate
A token is only sent in clear text to a loopback address.
`

func (c *cli) usage(w io.Writer) { fmt.Fprint(w, mainUsage) }

func (c *cli) help(args []string) error {
	if len(args) == 0 {
		c.usage(c.stdout)
		return nil
	}
	switch args[0] {
	case "replay":
		fs, _ := newReplayFlags(c)
		fs.SetOutput(c.stdout)
		fs.Usage()
	case "breakers", "breaker":
		fs, _ := newBreakersFlags(c)
		fs.SetOutput(c.stdout)
		fs.Usage()
	default:
		return usageError("no help for %q", args[0])
	}
	return nil
}
