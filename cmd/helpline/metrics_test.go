package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
	"github.com/helpline/helpline/bot/webchat"

	"github.com/helpline/helpline/bot/metrics/metricstest"
)

// metricsDB is the Redis database of the metrics test.
const metricsDB = 14

// TestMetrics runs the binary with Telegram, SMS and the web chat, sends
// real provider payloads and a conversation that asks for a counsellor,
// scrapes /metrics from its own listener, and checks that the counters
// moved as they should, that no label holds anything of a person, and that
// the Grafana dashboard asks only for what the helpline exports.
func TestMetrics(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	api := twiliotest.NewAPI(t, twilioSID, twilioToken)
	env := telegramEnv(fake, metricsDB)
	for k, v := range map[string]string{
		"HELPLINE_METRICS_ADDR": "127.0.0.1:0", "HELPLINE_PUBLIC_URL": twilioPublic,
		"HELPLINE_TWILIO_ACCOUNT_SID": twilioSID, "HELPLINE_TWILIO_AUTH_TOKEN": twilioToken,
		"HELPLINE_TWILIO_FROM": "+3725550000", "HELPLINE_TWILIO_API_URL": api.URL, "HELPLINE_TWILIO_RATE": "100",
	} {
		env[k] = v
	}
	srv := startServer(t, env)
	metricsURL := srv.metricsURL(t)
	if resp, err := http.Get(srv.url + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the public listener must not serve the metrics: %v %v", resp, err)
	}

	// Telegram: the real /start update, then a cry for help from the same chat.
	start, err := os.ReadFile("../../bot/telegram/testdata/docs_message_text_start.json")
	if err != nil {
		t.Fatal(err)
	}
	const chat, danger = 1111111, "he hit me again"
	hit, _ := fake.Message(chat, danger, "en")
	for _, u := range [][]byte{start, hit} {
		if code, err := fake.Post(srv.url+"/telegram/webhook", telegramSecret, u); err != nil || code != http.StatusOK {
			t.Fatalf("webhook: %d %v", code, err)
		}
	}
	// SMS: Twilio's real inbound form, signed for this helpline.
	var sms struct {
		RawBody string `json:"raw_body"`
	}
	b, err := os.ReadFile("../../bot/twilio/testdata/courier_sms_receive.json")
	if err == nil {
		err = json.Unmarshal(b, &sms)
	}
	if err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(sms.RawBody)
	phone, smsText := form.Get("From"), form.Get("Body")
	req, _ := http.NewRequest("POST", srv.url+"/twilio/sms", strings.NewReader(sms.RawBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.SignForm(twilioToken, twilioPublic+"/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sms webhook: %v %v", resp, err)
	}
	resp.Body.Close()
	api.WaitSent(t, phone, 1)
	// The web chat: five messages, the last asking for a counsellor.
	token := webchat.NewToken()
	askForCounsellor(t, newWebPerson(t, srv.url, token, "en"), enText(t))

	var f map[string]*dto.MetricFamily
	settled := func() bool {
		f = metricstest.Scrape(t, metricsURL)
		return metricstest.Sum(f, "helpline_sends_total", "channel", "telegram", "outcome", "sent") >= 2 &&
			metricstest.Sum(f, "helpline_sends_total", "channel", "sms", "outcome", "sent") >= 1 &&
			metricstest.Sum(f, "helpline_sends_total", "channel", "web", "outcome", "sent") >= 5 &&
			metricstest.Sum(f, "helpline_queue_waiting") == 1
	}
	for deadline := time.Now().Add(10 * time.Second); !settled(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sends and the queued case were not counted within 10s")
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"helpline_messages_received_total", []string{"channel", "telegram"}, 2},
		{"helpline_messages_received_total", []string{"channel", "sms"}, 1},
		{"helpline_messages_received_total", []string{"channel", "web"}, 5},
		{"helpline_messages_received_total", []string{"channel", "other"}, 0},
		{"helpline_messages_duplicate_total", nil, 0},
		{"helpline_alarms_total", []string{"kind", "danger"}, 1},
		{"helpline_alarms_total", []string{"kind", "danger", "lang", "en"}, 1},
		{"helpline_alarms_total", []string{"kind", "selfharm"}, 0},
		{"helpline_sends_total", []string{"outcome", "failed"}, 0},
		{"helpline_replies_dropped_total", nil, 0},
		{"helpline_queue_waiting", []string{"priority", "normal", "lang", "en"}, 1},
		{"helpline_queue_held", nil, 0},
		{"helpline_outbox_claimed_total", nil, 0},
		{"helpline_redis_errors_total", nil, 0},
	} {
		if got := metricstest.Sum(f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Each message commits once.
	if n := metricstest.Sum(f, "helpline_commit_duration_seconds"); n < 8 {
		t.Errorf("%v commits observed, want at least the 8 messages", n)
	}
	if n := len(f["helpline_outbox_entries"].GetMetric()); n != 16 {
		t.Errorf("the outbox backlog of %d partitions, want 16", n)
	}
	if f["go_goroutines"] == nil || f["process_resident_memory_bytes"] == nil {
		t.Error("no Go or process metrics")
	}

	// Nothing of a person in any label: not the chat, the number, the
	// person's pseudonymous ID, the web token, the case code or a word.
	keys := keysFor(t)
	private := []string{fmt.Sprint(chat), phone, strings.TrimPrefix(phone, "+"), token, danger, smsText, "/start",
		keys.PersonID(bot.Telegram, telegramtest.Address(chat)), keys.PersonID(bot.SMS, phone), keys.PersonID(bot.Web, token)}
	rdb := redis.NewClient(&redis.Options{Addr: redisServer.Addr, DB: metricsDB})
	defer rdb.Close()
	codes, err := rdb.ZRange(context.Background(), "hl:{q}:wait:0", 0, -1).Result()
	if err != nil || len(codes) != 1 {
		t.Fatalf("the waiting case's code: %v %v", codes, err)
	}
	private = append(private, codes[0])
	for name, fam := range f {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				for _, p := range private {
					if strings.Contains(l.GetValue(), p) || strings.Contains(name, p) {
						t.Errorf("%s{%s=%q} holds %q", name, l.GetName(), l.GetValue(), p)
					}
				}
			}
		}
	}
	checkDashboard(t, "../../deploy/grafana/helpline.json", f)
}

// metricsURL is where the server said it serves its metrics.
func (s *server) metricsURL(t *testing.T) string {
	t.Helper()
	_, rest, ok := strings.Cut(s.stdout.String(), "metrics on ")
	if !ok {
		t.Fatalf("the server did not say where its metrics are:\n%s", s.stdout)
	}
	u, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(u)
}

// dashboard is the part of a Grafana dashboard that a test reads.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

var (
	metricName = regexp.MustCompile(`\b(?:helpline|go|process)_[a-z0-9_]+\b`)
	selector   = regexp.MustCompile(`\b((?:helpline|go|process)_[a-z0-9_]+)\{([^}]*)\}`)
	matcher    = regexp.MustCompile(`(\w+)\s*=\s*"([^"]*)"`)
)

// checkDashboard loads the Grafana dashboard as Grafana would need it: a
// data source variable, panels with a place and a data source, and queries
// that name only metrics the helpline exports, with label values that its
// series have.
func checkDashboard(t *testing.T, path string, f map[string]*dto.MetricFamily) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Templating.List) == 0 || d.Templating.List[0].Type != "datasource" {
		t.Fatalf("%s: no title, uid or data source variable", path)
	}
	ids := map[int]bool{}
	queries := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] || p.Title == "" || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("panel %d %q: a unique id, a title and a place on the grid are needed", p.ID, p.Title)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
				t.Errorf("panel %q: no query on the data source variable", p.Title)
			}
			for _, q := range p.Targets {
				queries++
				checkQuery(t, p.Title, q.RefID, q.Expr, f)
			}
		}
	}
	walk(d.Panels)
	if queries < 10 {
		t.Fatalf("%s: %d queries: is the dashboard empty?", path, queries)
	}
}

// checkQuery checks one PromQL query of a panel.
func checkQuery(t *testing.T, title, ref, expr string, f map[string]*dto.MetricFamily) {
	t.Helper()
	if ref == "" || strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") ||
		strings.Count(expr, "[") != strings.Count(expr, "]") {
		t.Errorf("panel %q: query %q: no refId, or brackets that do not pair", title, expr)
	}
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("panel %q: query %q names no metric", title, expr)
	}
	for _, name := range names {
		if family(f, name) == nil {
			t.Errorf("panel %q: %s is not exported", title, name)
		}
	}
	for _, sel := range selector.FindAllStringSubmatch(expr, -1) {
		fam := family(f, sel[1])
		for _, m := range matcher.FindAllStringSubmatch(sel[2], -1) {
			if !hasLabelValue(fam, m[1], m[2]) {
				t.Errorf("panel %q: %s has no series with %s=%q", title, sel[1], m[1], m[2])
			}
		}
	}
}

// family finds the family of a series name: a histogram's _bucket, _sum
// and _count are its own.
func family(f map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if fam := f[name]; fam != nil {
		return fam
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if fam := f[strings.TrimSuffix(name, suffix)]; fam != nil && fam.GetType() == dto.MetricType_HISTOGRAM {
			return fam
		}
	}
	return nil
}

func hasLabelValue(fam *dto.MetricFamily, name, value string) bool {
	for _, m := range fam.GetMetric() {
		for _, l := range m.Label {
			if l.GetName() == name && l.GetValue() == value {
				return true
			}
		}
	}
	return false
}

// TestKubernetesScrapesTheMetrics: the manifest's scrape annotations point
// at the port the helpline serves its metrics on, which the Service does
// not expose.
func TestKubernetesScrapesTheMetrics(t *testing.T) {
	f, err := os.Open("../../deploy/kubernetes/helpline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type port struct {
		ContainerPort int    `yaml:"containerPort"`
		Port          int    `yaml:"port"`
		Name          string `yaml:"name"`
	}
	var deployment, service struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Ports    []port `yaml:"ports"`
			Template struct {
				Metadata struct {
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"metadata"`
				Spec struct {
					Containers []struct {
						Ports []port `yaml:"ports"`
						Env   []struct {
							Name, Value string
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(f)
	if err := dec.Decode(&deployment); err != nil || deployment.Kind != "Deployment" {
		t.Fatalf("the first document should be the Deployment: %v %q", err, deployment.Kind)
	}
	if err := dec.Decode(&service); err != nil || service.Kind != "Service" {
		t.Fatalf("the second document should be the Service: %v %q", err, service.Kind)
	}
	a := deployment.Spec.Template.Metadata.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" {
		t.Fatalf("scrape annotations: %v", a)
	}
	c := deployment.Spec.Template.Spec.Containers[0]
	addr := ""
	for _, e := range c.Env {
		if e.Name == "HELPLINE_METRICS_ADDR" {
			addr = e.Value
		}
	}
	metricsPort := 0
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			metricsPort = p.ContainerPort
		}
	}
	if metricsPort == 0 || a["prometheus.io/port"] != fmt.Sprint(metricsPort) || addr != fmt.Sprintf(":%d", metricsPort) {
		t.Fatalf("annotated port %q, container port %d and HELPLINE_METRICS_ADDR %q should agree", a["prometheus.io/port"], metricsPort, addr)
	}
	for _, p := range service.Spec.Ports {
		if p.Name == "metrics" || p.Port == metricsPort {
			t.Fatalf("the Service exposes the metrics port: %+v", p)
		}
	}
}
