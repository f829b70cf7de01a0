package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/helpline/helpline/bot/webchat"
)

// send posts form to path as the console's script does, asking for JSON,
// and decodes the answer into v.
func (b *browser) send(path string, form url.Values, v any) int {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.t.Fatalf("POST %s asked for JSON: %d %s", path, resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode
}

// fetchJSON gets path asking for JSON and decodes it into v.
func (b *browser) fetchJSON(path string, v any) int {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			b.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

type answer struct {
	OK      bool   `json:"ok"`
	Msg     string `json:"msg"`
	Go      string `json:"go"`
	ReplyID string `json:"reply_id"`
}

type linesJSON struct {
	HTML  string `json:"html"`
	Left  string `json:"left"`
	State string `json:"state"`
	Mine  bool   `json:"mine"`
}

// waitCase waits until the queue's JSON lists a case, and returns its code.
func waitCase(t *testing.T, b *browser) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var list []struct {
			Code   string `json:"code"`
			Urgent bool   `json:"urgent"`
		}
		if b.fetchJSON("/console/queue", &list) == http.StatusOK && len(list) > 0 {
			return list[0].Code
		}
	}
	t.Fatal("the case did not reach the queue")
	return ""
}

// TestConsoleAnswersFetch: the console's forms answer JSON when the
// page's script asks, and redirect otherwise; a preview shows the card and
// never the conversation; the case page learns that the person erased the
// chat.
func TestConsoleAnswersFetch(t *testing.T) {
	redisURL := "redis://" + redisServer.Addr + "/6"
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	pw := newCounsellor(t, redisURL, "mari", "--langs", "en")
	en := enText(t)
	b := newBrowser(t, srv.url)
	if code := b.login("mari", pw); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	toIntake(t, p, en)
	p.tap(en("intake.legal"))
	p.tap(en("common.done"))
	p.say("no")
	p.tap(en("intake.age_yes"))
	p.say("16")
	p.tap(en("intake.note_yes"))
	p.say("I would like to go home soon")
	code := waitCase(t, b)

	status, _, preview := b.get("/console/case/" + code + "/preview")
	for _, want := range []string{"legal advice", "Risks", "under 18", "not safe now", "I would like to go home soon", "In the person&#39;s own words", "English", "Web chat", `data-since="`} {
		if status != http.StatusOK || !strings.Contains(preview, want) {
			t.Errorf("the preview should show %q: %d", want, status)
		}
	}
	if strings.Contains(preview, `id="lines"`) {
		t.Error("the preview shows the conversation before the claim")
	}
	risks := preview[strings.Index(preview, `id="risks-h"`):strings.Index(preview, `id="card"`)]
	if !strings.Contains(risks, "under 18") || !strings.Contains(risks, "not safe now") {
		t.Errorf("under 18 and not safe now belong under Risks: %s", risks)
	}

	var a answer
	if s := b.send("/console/case/"+code+"/claim", url.Values{"csrf": {"wrong"}}, &a); s != http.StatusForbidden || a.OK || a.Msg == "" {
		t.Errorf("a claim with a wrong token: %d %+v", s, a)
	}
	if s := b.send("/console/case/"+code+"/claim", url.Values{"csrf": {b.csrf}}, &a); s != http.StatusOK || !a.OK || a.Go != "/console/case/"+code {
		t.Fatalf("claim: %d %+v", s, a)
	}
	a = answer{}
	if s := b.send("/console/case/"+code+"/claim", url.Values{"csrf": {b.csrf}}, &a); s != http.StatusConflict || a.OK || !strings.Contains(a.Msg, "took that case") {
		t.Errorf("a second claim: %d %+v", s, a)
	}
	b.get("/console/case/" + code)
	a = answer{}
	if s := b.send("/console/case/"+code+"/reply", url.Values{"csrf": {b.csrf}, "id": {"r1"}, "text": {"I am here."}}, &a); s != http.StatusOK || !a.OK || a.ReplyID == "" || a.ReplyID == "r1" {
		t.Fatalf("reply: %d %+v", s, a)
	}
	p.until("I am here.")
	if s, loc := b.post("/console/case/"+code+"/reply", url.Values{"csrf": {b.csrf}, "id": {"r2"}, "text": {"Still here."}}); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/case/"+code) {
		t.Errorf("a reply without script should redirect back: %d %q", s, loc)
	}
	p.until("Still here.")
	var l linesJSON
	if s := b.fetchJSON("/console/case/"+code+"/lines", &l); s != http.StatusOK || !strings.Contains(l.HTML, "I am here.") || l.State != "held" || !l.Mine || l.Left != "" {
		t.Fatalf("lines: %d %+v", s, l)
	}

	p.post(map[string]string{"text": "forget me"}) // erases at once, and ends the chat's stream
	for deadline := time.Now().Add(10 * time.Second); l.Left == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the console should learn that the person erased the chat: %+v", l)
		}
		l = linesJSON{}
		b.fetchJSON("/console/case/"+code+"/lines", &l)
	}
	if !strings.Contains(l.Left, "erased") || l.State == "held" {
		t.Errorf("after the erase: %+v", l)
	}
}

// TestConsoleStatsCSV: a supervisor downloads the counters of ended cases
// by day, language, topic, wrap-up and waiting time; the page says "1 case";
// a counsellor gets neither.
func TestConsoleStatsCSV(t *testing.T) {
	redisURL := "redis://" + redisServer.Addr + "/7"
	srv := startServer(t, map[string]string{"HELPLINE_REDIS_URL": redisURL, "HELPLINE_SECRET": testSecret})
	pw := newCounsellor(t, redisURL, "sara", "--langs", "en", "--role", "supervisor")
	cpw := newCounsellor(t, redisURL, "timo", "--langs", "en")
	b := newBrowser(t, srv.url)
	if code := b.login("sara", pw); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	p := newWebPerson(t, srv.url, webchat.NewToken(), "en")
	askForCounsellor(t, p, enText(t))
	code := waitCase(t, b)
	var a answer
	if s := b.send("/console/case/"+code+"/claim", url.Values{"csrf": {b.csrf}}, &a); !a.OK {
		t.Fatalf("claim: %d %+v", s, a)
	}
	if s := b.send("/console/case/"+code+"/end", url.Values{"csrf": {b.csrf}, "wrap": {"information"}}, &a); !a.OK || a.Msg == "" {
		t.Fatalf("end: %d %+v", s, a)
	}

	status, _, page := b.get("/console/stats")
	if status != http.StatusOK || !strings.Contains(page, "The last 14 days: 1 case.") || strings.Contains(page, "1 cases") {
		t.Errorf("the statistics should say 1 case: %d", status)
	}
	resp, err := b.c.Get(srv.url + "/console/stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", resp.StatusCode, err)
	}
	want := []string{time.Now().Format(time.DateOnly), "en", "counsellor", "information", "lt1m", "1"}
	if len(rows) != 2 || strings.Join(rows[0], ",") != "day,language,topic,wrap_up,waiting,cases" || strings.Join(rows[1], ",") != strings.Join(want, ",") {
		t.Errorf("csv rows: %q, want the header and %q", rows, want)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell == code || strings.Contains(cell, p.token) {
				t.Errorf("the csv names the case or the person: %q", row)
			}
		}
	}
	if s, _, _ := b.get("/console/stats.csv?days=9999"); s != http.StatusBadRequest {
		t.Errorf("too many days: %d", s)
	}
	c := newBrowser(t, srv.url)
	c.login("timo", cpw)
	if s, _, _ := c.get("/console/stats.csv"); s != http.StatusForbidden {
		t.Errorf("a counsellor downloads the statistics: %d", s)
	}
}
