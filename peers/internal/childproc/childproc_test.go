package childproc_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/peers/internal/childproc"
)

// The test binary is its own child process: with CHILDPROC_HELPER set it
// plays the script named there instead of running the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CHILDPROC_HELPER"); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(mode string) {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch mode {
		case "echo": // answers {"echo": <the request>}
			fmt.Printf("{\"echo\":%s}\n", in.Text())
		case "marker": // prints noise, then a marked answer
			fmt.Println("xmllint: noise")
			fmt.Printf("@@answer {\"echo\":%s}\n", in.Text())
		case "fatal":
			fmt.Println(`{"fatal":"Traceback: KeyError 'op'"}`)
		case "die":
			fmt.Fprintln(os.Stderr, "boom: the script failed")
			os.Exit(3)
		case "silent": // reads, never answers
		}
	}
}

func start(t *testing.T, mode, marker string, timeout time.Duration) *childproc.Proc {
	t.Helper()
	return childproc.Start(t, childproc.Config{Name: "helper-" + mode, Path: os.Args[0], Args: []string{"-test.run=^$"},
		Env: append(os.Environ(), "CHILDPROC_HELPER="+mode), Marker: marker, Timeout: timeout})
}

type echo struct {
	Echo struct {
		Op string `json:"op"`
		N  int    `json:"n"`
	} `json:"echo"`
}

func TestCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ mode, marker string }{{"echo", ""}, {"marker", "@@answer "}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			p := start(t, tc.mode, tc.marker, 0)
			for i := range 3 {
				var got echo
				if err := p.Call(map[string]any{"op": "login", "n": i}, &got); err != nil || got.Echo.Op != "login" || got.Echo.N != i {
					t.Fatalf("call %d: %+v %v", i, got, err)
				}
			}
		})
	}
}

func TestFatalAnswer(t *testing.T) {
	t.Parallel()
	p := start(t, "fatal", "", 0)
	var got echo
	if err := p.Call(map[string]any{}, &got); err == nil || err.Error() != "helper-fatal: Traceback: KeyError 'op'" {
		t.Fatalf("fatal answer: %v", err)
	}
}

// TestProcessDies: a call to a process that exits fails with its stderr,
// and so does Close.
func TestProcessDies(t *testing.T) {
	t.Parallel()
	p := start(t, "die", "", 0)
	var got echo
	err := p.Call(map[string]any{"op": "login"}, &got)
	if err == nil || !strings.HasPrefix(err.Error(), "helper-die: ") {
		t.Fatalf("call to a dead process: %v", err)
	}
	err = p.Close()
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "boom: the script failed") {
		t.Fatalf("close: %v", err)
	}
	if again := p.Close(); again != err {
		t.Fatalf("second close: %v", again)
	}
}

// TestTimeout: a process that does not answer is killed when its time is
// up, and the call waiting on it fails saying so.
func TestTimeout(t *testing.T) {
	t.Parallel()
	p := start(t, "silent", "", 300*time.Millisecond)
	begin := time.Now()
	var got echo
	err := p.Call(map[string]any{"op": "login"}, &got)
	if err == nil || !strings.Contains(err.Error(), "helper-silent: killed after its time ran out") {
		t.Fatalf("call to a silent process: %v", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Fatalf("the call came back after %v", d)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("close after the timeout: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	t.Parallel()
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		childproc.Start(ft, childproc.Config{Name: "nothing", Path: "/nonexistent/interpreter"})
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, "nothing: ") {
		t.Fatalf("start of a missing command: failed %v, %q", ft.failed, ft.msg)
	}
}

// fakeT records Fatal (and stops its goroutine, as testing.T does).
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
