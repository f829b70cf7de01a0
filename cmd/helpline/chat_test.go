package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chatRun runs the chat command on the given input and returns what it
// printed.
func chatRun(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"chat"}, args...), noEnv, strings.NewReader(input), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	return stdout.String(), err
}

func TestChatConversation(t *testing.T) {
	input := `tere
1
1
vist
jah
:session
:photo
2
1
:wait 25h
yes
9
2
appi, nad lukustasid mu kinni
:claim
are you there
:say Hello, I am here.
:end
:bogus
forget me
:session
:reset
:link school
:quit
never read
`
	want := chatBanner + `
> tere
Tere! See vestlus on anonüümne.

Mis keeles soovid rääkida?
  1. Eesti
  2. English
  3. Русский
> 1
Mida soovid teha?
  1. Tee viktoriin
  2. Räägi nõustajaga
> 1
Kas tööandja võib sinu passi enda käes hoida?
> vist
Palun vasta jah või ei.

Kas tööandja võib sinu passi enda käes hoida?
> jah
Sul on 1 õige vastus.
[count quiz.done]
> :session
[lang et]
[at rest]
[vars q1=yes score=1]
> :photo
Ma saan lugeda ainult teksti.

Tere! See vestlus on anonüümne.

Mis keeles soovid rääkida?
  1. Eesti
  2. English
  3. Русский
> 2
What would you like to do?
  1. Take the quiz
  2. Talk to a counsellor
> 1
Can an employer keep your passport?
> :wait 25h
[the clock moves on 25h0m0s]
> yes
What would you like to do?
  1. Take the quiz
  2. Talk to a counsellor
> 9
What would you like to do?
  1. Take the quiz
  2. Talk to a counsellor
> 2
A counsellor will answer soon.
[handoff high topic=question | q1=yes score=1]
> appi, nad lukustasid mu kinni
Call 112, 116 006 now.
[alert danger.help]
[count danger]
[relay to the counsellor]
> :claim
[no reply]
> are you there
[no reply]
[relay to the counsellor]
> :say Hello, I am here.
Hello, I am here.
> :end
What would you like to do?
  1. Take the quiz
  2. Talk to a counsellor
> :bogus
[no simulator command :bogus; :help lists them]
> forget me
Everything is erased.
[erase]
> :session
[lang en]
[at rest]
[vars none]
> :reset
[new session]
> :link school
Kas tööandja võib sinu passi enda käes hoida?
[count campaign.school]
> :quit
`
	got, err := chatRun(t, input, "-flows", "testdata/flows", "-locales", "testdata/locales", "--lang", "et", "--country", "ee")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("transcript differs:\n%s", lineDiff(got, want))
	}
}

func TestChatWithoutHint(t *testing.T) {
	got, err := chatRun(t, "hello\n:session\n", "-flows", "testdata/flows", "-locales", "testdata/locales")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Hello! This chat is anonymous.", "  1. English", "[lang en]", "[at welcome/hello]"} {
		if !strings.Contains(got, "\n"+line+"\n") {
			t.Errorf("no line %q in:\n%s", line, got)
		}
	}
}

func TestChatShipped(t *testing.T) {
	got, err := chatRun(t, "hi\n")
	if err != nil {
		t.Fatal(err)
	}
	_, reply, _ := strings.Cut(got, "> hi\n")
	if strings.TrimSpace(reply) == "" || strings.HasPrefix(reply, "[") {
		t.Errorf("no reply to hi:\n%s", got)
	}
}

func TestChatBadContent(t *testing.T) {
	dir := copyContent(t, contentEdit{"flows/menu.yaml", "next: counsellor", "next: nowhere"})
	_, err := chatRun(t, "hi\n", "-flows", filepath.Join(dir, "flows"), "-locales", filepath.Join(dir, "locales"))
	if err == nil || !strings.Contains(err.Error(), `target "nowhere" does not exist`) {
		t.Errorf("chat on broken flows = %v", err)
	}
}

func TestChatEndsWithContext(t *testing.T) {
	r, w := io.Pipe() // input that never comes
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"chat", "-flows", "testdata/flows", "-locales", "testdata/locales"}, noEnv, r, io.Discard, io.Discard)
	}()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("chat = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chat did not end when its context did")
	}
}

// lineDiff shows where two transcripts part.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d", i+1) + ":\n got: " + gl + "\nwant: " + wl + "\n\nfull output:\n" + got
		}
	}
	return got
}
