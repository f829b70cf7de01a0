// Package metrics exports the helpline's figures to Prometheus: what the
// dispatcher and delivery count as they work, and what Redis holds (the
// outbox and the counsellor queue), read when Prometheus scrapes.
//
// No label names a person. Every label value comes from a closed set: the
// channel names, the outcomes of a send, the reasons for a drop, the
// priorities, the configured languages, the outbox partitions and the
// names of Redis commands. A value from outside that set (a channel or a
// language the helpline does not know) is counted as "other".
//
// Every series of a closed set exists from the start, at zero, so the hot
// path only adds to a counter it already holds: no lookup by label, no
// allocation.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpline/helpline/bot"
)

// Options say what the metrics are made of.
type Options struct {
	// Languages are the configured languages: the values of lang labels.
	Languages []string
	// Source is read at scrape time for the outbox and queue figures; nil
	// exports none.
	Source Source
	// Timeout bounds the scrape-time reads of Source. Default 1s.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Metrics is the helpline's registry of metrics. It is the dispatcher's
// runner.Meter and delivery's runner.DeliveryMeter.
type Metrics struct {
	reg   *prometheus.Registry
	langs labels

	received   [numChannels]prometheus.Counter
	duplicates [numChannels]prometheus.Counter
	commit     prometheus.Histogram
	alarms     [numKinds][]prometheus.Counter // by kind, then language

	tries    [numChannels][numOutcomes]prometheus.Counter
	sendTime [numChannels]prometheus.Observer
	dropped  [numChannels][numReasons]prometheus.Counter
	claimed  prometheus.Counter

	redisErrors *prometheus.CounterVec
}

// New makes the metrics and registers them, with the Go runtime's and the
// process's, in a registry of their own.
func New(o Options) *Metrics {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), langs: newLabels(o.Languages, "none", "other")}
	channel := []string{"channel"}
	received := counters("helpline_messages_received_total", "Messages people sent, committed, by channel.", channel)
	duplicates := counters("helpline_messages_duplicate_total", "Messages a provider delivered again, ignored, by channel.", channel)
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "helpline_commit_duration_seconds",
		Help:    "Time of one commit's round trip to Redis: session, replies, counters.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
	alarms := counters("helpline_alarms_total", "Alerts raised: danger and self-harm matches of the safety net, and answers that raise the alert, by the person's language.", []string{"kind", "lang"})
	tries := counters("helpline_sends_total", "Tries to send an outbox entry, by channel (case: a queue operation) and outcome: sent, retry, failed (refused for good).", []string{"channel", "outcome"})
	sendTime := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "helpline_send_duration_seconds",
		Help:    "Time of one try to send an outbox entry, by channel.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, channel)
	dropped := counters("helpline_replies_dropped_total", "Outbox entries that left the outbox unsent, by channel and reason.", []string{"channel", "reason"})
	m.claimed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "helpline_outbox_claimed_total",
		Help: "Outbox entries the claim loop took over from other consumers: a replica that died, or a hand-over left for later.",
	})
	m.redisErrors = counters("helpline_redis_errors_total", "Redis commands that failed, by command; collect is a scrape-time read that did not finish in time.", []string{"command"})

	for c, name := range channelNames {
		m.received[c] = received.WithLabelValues(name)
		m.duplicates[c] = duplicates.WithLabelValues(name)
		m.sendTime[c] = sendTime.WithLabelValues(name)
		for o, outcome := range outcomeNames {
			m.tries[c][o] = tries.WithLabelValues(name, outcome)
		}
		for r, reason := range reasonNames {
			m.dropped[c][r] = dropped.WithLabelValues(name, reason)
		}
	}
	for k, kind := range kindNames {
		for _, lang := range m.langs.names {
			m.alarms[k] = append(m.alarms[k], alarms.WithLabelValues(kind, lang))
		}
	}
	m.redisErrors.WithLabelValues("collect")
	m.reg.MustRegister(received, duplicates, m.commit, alarms, tries, sendTime, dropped, m.claimed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Source == nil {
		m.reg.MustRegister(m.redisErrors)
		return m
	}
	// The collector serves the Redis errors after its own reads, so that a
	// scrape counts the errors of its own reads.
	m.reg.MustRegister(newCollector(o.Source, o.Timeout, o.Now, m.langs, m.redisErrors))
	return m
}

func counters(name, help string, labels []string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Received counts a person's message.
func (m *Metrics) Received(ch bot.Channel, duplicate bool) {
	if duplicate {
		m.duplicates[channelIndex(string(ch))].Inc()
		return
	}
	m.received[channelIndex(string(ch))].Inc()
}

// Committed observes one commit's round trip.
func (m *Metrics) Committed(d time.Duration) { m.commit.Observe(d.Seconds()) }

// Alarm counts an alert of kind raised for a person speaking lang.
func (m *Metrics) Alarm(kind, lang string) { m.alarms[kindIndex(kind)][m.langs.index(lang)].Inc() }

// Tried counts one try to send an entry and observes how long it took.
func (m *Metrics) Tried(channel, outcome string, d time.Duration) {
	c := channelIndex(channel)
	m.tries[c][outcomeIndex(outcome)].Inc()
	m.sendTime[c].Observe(d.Seconds())
}

// Dropped counts an entry dropped unsent.
func (m *Metrics) Dropped(channel, reason string) {
	m.dropped[channelIndex(channel)][reasonIndex(reason)].Inc()
}

// Claimed counts entries the claim loop took over.
func (m *Metrics) Claimed(n int) { m.claimed.Add(float64(n)) }

// RedisError counts a failed Redis command (store.OnError calls it). The
// command is a Redis command's name, never an argument.
func (m *Metrics) RedisError(command string) { m.redisErrors.WithLabelValues(command).Inc() }
