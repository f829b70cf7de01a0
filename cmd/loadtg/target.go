package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/helpline/helpline/bot/telegram"
)

// The fake Bot API's token and the webhook secret of both targets.
const (
	fakeToken     = "123456:TEST"
	webhookSecret = "loadtg-webhook-secret-0123456789"
)

// target is a bot under measurement, running as its own process.
type target struct {
	name    string
	webhook string // the URL updates are posted to; empty when it polls
	cmd     *exec.Cmd
	log     string // where its log goes
}

// buildHelpline builds the helpline binary into dir.
func buildHelpline(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "helpline")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/helpline/helpline/cmd/helpline")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the helpline (run loadtg inside the repository): %w", err)
	}
	return bin, nil
}

// startHelpline runs the helpline binary against the fake Bot API and the
// Redis at redisAddr. The rate limits are off: they would measure Telegram's
// limits, not the helpline.
func startHelpline(bin, api, redisAddr, dir, profile string, polling bool) (*target, error) {
	env := append(os.Environ(),
		"HELPLINE_ADDR=127.0.0.1:0",
		"HELPLINE_REDIS_URL=redis://"+redisAddr+"/0",
		"HELPLINE_SECRET=loadtg secret that is long enough for the keys",
		"HELPLINE_TELEGRAM_TOKEN="+fakeToken,
		"HELPLINE_TELEGRAM_API_URL="+api,
		"HELPLINE_TELEGRAM_SECRET="+webhookSecret,
		"HELPLINE_TELEGRAM_CHAT_RATE=0",
		"HELPLINE_TELEGRAM_RATE=0",
		"HELPLINE_LOG_FORMAT=json",
	)
	if profile != "" {
		env = append(env, "HELPLINE_CPUPROFILE="+profile)
	}
	if polling {
		env = append(env, "HELPLINE_TELEGRAM_MODE=polling", "HELPLINE_REPLICA=loadtg")
	}
	t, err := start("helpline", exec.Command(bin), env, dir, "web chat on ", true)
	if err != nil {
		return nil, err
	}
	if polling {
		t.webhook = ""
	} else {
		t.webhook += telegram.WebhookPath
	}
	return t, nil
}

// startCeiling runs this program as the ceiling bot; profile, when not
// empty, is the file it writes its CPU profile to.
func startCeiling(api, dir, profile, mode string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return start("ceiling", exec.Command(self, "-role", "ceiling", "-mode", mode, "-api", api, "-cpuprofile", profile), os.Environ(), dir, "ceiling on ", mode == "webhook")
}

// external is a bot the repository does not hold, measured beside the
// others: a command line, run without a shell.
type external struct {
	name string
	args []string
}

// parseExternal reads -external's NAME=COMMAND.
func parseExternal(s string) (external, error) {
	name, command, ok := strings.Cut(s, "=")
	args := strings.Fields(command)
	if !ok || name == "" || strings.ContainsAny(name, ", ") || len(args) == 0 {
		return external{}, fmt.Errorf("-external %q: want NAME=COMMAND", s)
	}
	if name == "ceiling" || name == "helpline" {
		return external{}, fmt.Errorf("-external %q: the name %s is taken", s, name)
	}
	return external{name, args}, nil
}

// startExternal runs an external bot. It finds the fake Bot API's root in
// LOADTG_API_ROOT (methods are at ROOT/botTOKEN/METHOD), the token in
// LOADTG_TOKEN, the mode in LOADTG_MODE, and in webhook mode the secret in
// LOADTG_WEBHOOK_SECRET. A bot that keeps state may keep it in the empty
// Redis at LOADTG_REDIS_URL, whose CPU is counted as the helpline's is. It
// prints "loadtg ready" once it polls, or
// "loadtg ready http://127.0.0.1:PORT/PATH" with its webhook's URL.
func startExternal(e external, api, redisAddr, dir, mode string) (*target, error) {
	env := append(os.Environ(), "LOADTG_API_ROOT="+api, "LOADTG_TOKEN="+fakeToken, "LOADTG_MODE="+mode, "LOADTG_WEBHOOK_SECRET="+webhookSecret, "LOADTG_REDIS_URL=redis://"+redisAddr+"/0")
	return start(e.name, exec.Command(e.args[0], e.args[1:]...), env, dir, "loadtg ready", mode == "webhook")
}

// start runs cmd and waits for the line that holds marker, and after it
// the target's address when hasURL.
func start(name string, cmd *exec.Cmd, env []string, dir, marker string, hasURL bool) (*target, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Env, cmd.Stderr = env, logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	t := &target{name: name, cmd: cmd, log: logPath}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), marker); ok {
				found <- strings.TrimSuffix(strings.TrimSpace(addr), "/")
			}
		}
	}()
	select {
	case addr := <-found:
		if !hasURL {
			return t, nil
		}
		u, err := url.Parse(addr)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.stop()
			return nil, fmt.Errorf("%s listens on %q: only 127.0.0.1 is allowed", name, addr)
		}
		t.webhook = addr
		return t, nil
	case <-time.After(30 * time.Second):
		t.stop()
		return nil, fmt.Errorf("%s did not start within 30s; see %s", name, logPath)
	}
}

// stop asks the process to finish and waits for it.
func (t *target) stop() {
	t.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// cpu returns the CPU time the process has used so far, user and system,
// from /proc (Linux).
func (t *target) cpu() (time.Duration, error) {
	return procCPU(t.cmd.Process.Pid)
}

// clockTick is the unit of /proc's CPU times: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, errors.New("no /proc: CPU per update needs Linux")
	}
	// The command name may hold spaces: the fields start after its ")".
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, errors.New("unreadable /proc stat")
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * clockTick, nil
}

// selfCPU returns the CPU time this process (the users and the fake Bot
// API) has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
