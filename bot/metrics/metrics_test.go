package metrics

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
	"github.com/helpline/helpline/bot/store/redistest"

	"github.com/helpline/helpline/bot/metrics/metricstest"
)

var server *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &server) }

var langs = []string{"en", "ru", "lv"}

// prefix gives each run of a test keys of its own on the shared server.
func prefix(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

// scrape reads the metrics as Prometheus would, through the handler.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	return metricstest.Scrape(t, srv.URL)
}

func want(t *testing.T, families map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := metricstest.Value(families, name, labels...)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
	} else if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// TestCountsLandInClosedSets: each count goes to its series, a value from
// outside a closed set goes to "other", and every series of a set is there
// from the start, at zero.
func TestCountsLandInClosedSets(t *testing.T) {
	m := New(Options{Languages: langs})
	before := scrape(t, m)
	want(t, before, 0, "helpline_messages_received_total", "channel", "whatsapp")
	want(t, before, 0, "helpline_alarms_total", "kind", "selfharm", "lang", "lv")
	want(t, before, 0, "helpline_sends_total", "channel", "case", "outcome", "failed")
	want(t, before, 0, "helpline_replies_dropped_total", "channel", "web", "reason", "undecodable")
	want(t, before, 0, "helpline_redis_errors_total", "command", "collect")

	m.Received(bot.Telegram, false)
	m.Received(bot.Telegram, false)
	m.Received(bot.Web, true)
	m.Received("fax", false)
	m.Committed(300 * time.Microsecond)
	m.Alarm("danger", "ru")
	m.Alarm("selfharm", "xx")
	m.Alarm("danger", "")
	m.Alarm("answer", "en")
	m.Alarm("strange", "en")
	m.Tried("sms", "sent", 20*time.Millisecond)
	m.Tried("", "retry", time.Millisecond)
	m.Tried("telegram", "failed", time.Millisecond)
	m.Dropped("telegram", "send.permanent")
	m.Dropped("fax", "send.something_new")
	m.Claimed(3)
	m.RedisError("evalsha")

	f := scrape(t, m)
	want(t, f, 2, "helpline_messages_received_total", "channel", "telegram")
	want(t, f, 1, "helpline_messages_received_total", "channel", "other")
	want(t, f, 1, "helpline_messages_duplicate_total", "channel", "web")
	want(t, f, 0, "helpline_messages_received_total", "channel", "web")
	want(t, f, 1, "helpline_commit_duration_seconds")
	want(t, f, 1, "helpline_alarms_total", "kind", "danger", "lang", "ru")
	want(t, f, 1, "helpline_alarms_total", "kind", "selfharm", "lang", "other")
	want(t, f, 1, "helpline_alarms_total", "kind", "danger", "lang", "none")
	want(t, f, 1, "helpline_alarms_total", "kind", "answer", "lang", "en")
	want(t, f, 1, "helpline_alarms_total", "kind", "other", "lang", "en")
	want(t, f, 1, "helpline_sends_total", "channel", "sms", "outcome", "sent")
	want(t, f, 1, "helpline_sends_total", "channel", "case", "outcome", "retry")
	want(t, f, 1, "helpline_sends_total", "channel", "telegram", "outcome", "failed")
	want(t, f, 1, "helpline_send_duration_seconds", "channel", "sms")
	want(t, f, 1, "helpline_send_duration_seconds", "channel", "telegram")
	want(t, f, 1, "helpline_replies_dropped_total", "channel", "telegram", "reason", "permanent")
	want(t, f, 1, "helpline_replies_dropped_total", "channel", "other", "reason", "other")
	want(t, f, 3, "helpline_outbox_claimed_total")
	want(t, f, 1, "helpline_redis_errors_total", "command", "evalsha")
	if f["go_goroutines"] == nil || f["process_cpu_seconds_total"] == nil {
		t.Error("the Go and process collectors are not registered")
	}
	for _, name := range []string{"fax", "xx", "strange", "something_new"} {
		for _, fam := range f {
			for _, s := range fam.Metric {
				for _, l := range s.Label {
					if l.GetValue() == name {
						t.Errorf("%s has the label value %q from outside its set", fam.GetName(), name)
					}
				}
			}
		}
	}
}

// TestHotPathDoesNotAllocate: the counts of the commit and delivery paths
// add to series bound once.
func TestHotPathDoesNotAllocate(t *testing.T) {
	m := New(Options{Languages: langs})
	n := testing.AllocsPerRun(100, func() {
		m.Received(bot.Telegram, false)
		m.Committed(time.Millisecond)
		m.Tried("telegram", "sent", time.Millisecond)
		m.Alarm("danger", "ru")
	})
	if n != 0 {
		t.Fatalf("%v allocations per message, want none", n)
	}
}

// TestCollectorReadsRedis: the outbox and queue figures are read from a
// real Redis at scrape time.
func TestCollectorReadsRedis(t *testing.T) {
	ctx := context.Background()
	rdb := server.Client()
	defer rdb.Close()
	st := store.New(rdb, store.Options{Prefix: prefix(t), Partitions: 4})
	now := time.Now()
	for _, c := range []bot.Case{
		{Code: "A", Lang: "ru", Priority: bot.Urgent, Created: now.Add(-90 * time.Second)},
		{Code: "B", Lang: "ru", Priority: bot.Urgent, Created: now.Add(-30 * time.Second)},
		{Code: "C", Lang: "tlh", Priority: bot.Normal, Created: now.Add(-10 * time.Minute)},
	} {
		c.PID, c.Channel, c.Topic = "pid-"+c.Code, bot.Web, "counsellor"
		if ok, err := st.Enqueue(ctx, c); err != nil || !ok {
			t.Fatalf("enqueue: %v %v", ok, err)
		}
	}
	pid := "pid-outbox"
	if _, err := st.Commit(ctx, store.Commit{PID: pid, Session: []byte("s"), Address: []byte("a"), Now: now,
		Out: []store.Entry{{Channel: "web", Reply: []byte("r")}}}); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Languages: langs, Source: st, Now: func() time.Time { return now.Add(time.Minute) }})
	f := scrape(t, m)
	part := st.Partition(pid)
	for p := range 4 {
		label := []string{"partition", string(rune('0' + p))}
		n, age := 0.0, 0.0
		if p == part {
			n = 1
		}
		want(t, f, n, "helpline_outbox_entries", label...)
		age, _ = metricstest.Value(f, "helpline_outbox_oldest_seconds", label...)
		if (p == part) != (age >= 59 && age <= 61) || (p != part && age != 0) {
			t.Errorf("partition %d: oldest %vs; want about 60s where the entry waits, 0 elsewhere", p, age)
		}
	}
	want(t, f, 2, "helpline_queue_waiting", "priority", "urgent", "lang", "ru")
	want(t, f, 1, "helpline_queue_waiting", "priority", "normal", "lang", "other")
	want(t, f, 0, "helpline_queue_waiting", "priority", "high", "lang", "en")
	for priority, waited := range map[string]float64{"urgent": 150, "normal": 660} {
		// The queue keeps its times to the millisecond.
		if v, _ := metricstest.Value(f, "helpline_queue_oldest_wait_seconds", "priority", priority); v < waited || v > waited+0.01 {
			t.Errorf("the oldest %s case waited %vs, want %vs", priority, v, waited)
		}
	}
	want(t, f, 0, "helpline_queue_oldest_wait_seconds", "priority", "high")
	want(t, f, 0, "helpline_queue_held")
	want(t, f, 0, "helpline_redis_errors_total", "command", "collect")
}

// TestScrapeWhileRedisStalls: while Redis stalls, a scrape answers before
// the stall ends, without the figures of Redis, and counts a Redis error;
// once Redis answers again, so do the figures.
func TestScrapeWhileRedisStalls(t *testing.T) {
	stalled, err := redistest.Start("--enable-debug-command", "yes")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	rdb := stalled.Client()
	defer rdb.Close()
	m := New(Options{Languages: langs, Source: store.New(rdb, store.Options{Partitions: 2}), Timeout: 200 * time.Millisecond})
	if f := scrape(t, m); f["helpline_outbox_entries"] == nil {
		t.Fatal("no outbox figures before the stall")
	}
	admin := stalled.Client()
	defer admin.Close()
	slept := make(chan struct{})
	go func() {
		admin.Do(context.Background(), "DEBUG", "SLEEP", "3")
		close(slept)
	}()
	time.Sleep(100 * time.Millisecond) // let the stall begin
	for i := range 2 {
		f := scrape(t, m)
		select {
		case <-slept:
			t.Fatal("the scrape answered only after the stall ended")
		default:
		}
		if f["helpline_outbox_entries"] != nil || f["helpline_queue_waiting"] != nil {
			t.Fatal("figures of a Redis that does not answer")
		}
		want(t, f, float64(i+1), "helpline_redis_errors_total", "command", "collect")
		if f["helpline_messages_received_total"] == nil {
			t.Fatal("the counters should be served all the same")
		}
	}
	<-slept
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if f := scrape(t, m); f["helpline_outbox_entries"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no figures after the stall")
		}
	}
}

// TestLabelsAreClosedSets: every label of the helpline's metrics is one of
// the closed sets.
func TestLabelsAreClosedSets(t *testing.T) {
	rdb := server.Client()
	defer rdb.Close()
	m := New(Options{Languages: langs, Source: store.New(rdb, store.Options{Prefix: prefix(t)})})
	for name, f := range scrape(t, m) {
		if !strings.HasPrefix(name, "helpline_") {
			continue
		}
		for _, l := range f.Metric[0].Label {
			switch l.GetName() {
			case "channel", "outcome", "reason", "kind", "lang", "command", "partition", "priority":
			default:
				t.Errorf("%s has the label %q, outside the closed sets", name, l.GetName())
			}
		}
	}
}
