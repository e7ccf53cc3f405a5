package childproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout is how long a process may live when Config.Timeout is
// zero.
const DefaultTimeout = 5 * time.Minute

// Config says what to run.
type Config struct {
	// Name names the process in errors ("sp.py").
	Name string
	// Path and Args are the command, as for exec.Command.
	Path string
	Args []string
	// Dir is the working directory ("": the test's).
	Dir string
	// Env is the whole environment (nil: the test's).
	Env []string
	// Marker, when set, starts each answer line: the process's other
	// stdout lines (a library that prints) are skipped.
	Marker string
	// Timeout bounds the process's life (0: DefaultTimeout): it is
	// killed then, and a call waiting for an answer fails.
	Timeout time.Duration
}

// Proc is a running child process; its calls are serialized.
type Proc struct {
	name   string
	marker []byte
	cmd    *exec.Cmd
	ctx    context.Context
	cancel context.CancelFunc
	stderr *lockedBuffer

	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader

	closeOnce sync.Once
	closeErr  error
}

// Start starts the process for t, or fails t. When t ends the process's
// stdin is closed and it is waited for: t fails if it exits with an error
// (its stderr in the message) before its time is up, unless the test
// closed it itself.
func Start(t testing.TB, cfg Config) *Proc {
	t.Helper()
	p, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closed := false
		p.closeOnce.Do(func() { closed, p.closeErr = true, p.wait() })
		if closed && p.closeErr != nil {
			t.Error(p.closeErr)
		}
	})
	return p
}

func start(cfg Config) (*Proc, error) {
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, cfg.Path, cfg.Args...)
	cmd.Dir, cmd.Env = cfg.Dir, cfg.Env
	p := &Proc{name: cfg.Name, marker: []byte(cfg.Marker), cmd: cmd, ctx: ctx, cancel: cancel, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	p.in, p.out = stdin, bufio.NewReaderSize(stdout, 1<<16)
	return p, nil
}

// Call writes req as one JSON line and decodes the answer line into resp.
// An answer {"fatal": "..."} is an error, as are a process that died and
// one whose time ran out.
func (p *Proc) Call(req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return p.failed(err)
	}
	var line []byte
	for {
		if line, err = p.out.ReadBytes('\n'); err != nil {
			return p.failed(err)
		}
		if bytes.HasPrefix(line, p.marker) {
			break
		}
	}
	line = line[len(p.marker):]
	var fatal struct{ Fatal string }
	if json.Unmarshal(line, &fatal) == nil && fatal.Fatal != "" {
		return errors.New(p.name + ": " + fatal.Fatal)
	}
	return json.Unmarshal(line, resp)
}

// failed is the error of a call whose process went away.
func (p *Proc) failed(err error) error {
	if p.ctx.Err() != nil {
		return fmt.Errorf("%s: killed after its time ran out: %w", p.name, err)
	}
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		return fmt.Errorf("%s: %w\n%s", p.name, err, s)
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// Close closes the process's stdin and waits for it to exit: the error
// of an exit status other than 0 holds its stderr. A process killed when
// its time ran out is no error here (the calls waiting on it failed).
// Later calls return the first one's answer.
func (p *Proc) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.wait() })
	return p.closeErr
}

func (p *Proc) wait() error {
	defer p.cancel()
	p.in.Close()
	if err := p.cmd.Wait(); err != nil && p.ctx.Err() == nil {
		return fmt.Errorf("%s: %v\n%s", p.name, err, p.stderr.String())
	}
	return nil
}

// lockedBuffer is the process's stderr, read while it may still write.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
