package metrics

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/helpline/helpline/bot"
	"github.com/helpline/helpline/bot/store"
)

// Source is what the metrics read of Redis when Prometheus scrapes: the
// store.
type Source interface {
	OutboxBacklog(ctx context.Context) ([]store.Backlog, error)
	QueueFigures(ctx context.Context) (store.QueueFigures, error)
}

// priorityNames are the priority label's values, by bot.Priority.
var priorityNames = [...]string{bot.Normal.String(), bot.High.String(), bot.Urgent.String()}

// collector reads the figures that live in Redis at scrape time, within a
// time limit: a Redis that stalls leaves those figures out of the scrape,
// and counts as a Redis error, rather than holding the scrape up. They are
// the same on every replica, which all read the same Redis: a dashboard
// takes their max over replicas, not their sum.
type collector struct {
	src     Source
	timeout time.Duration
	now     func() time.Time
	langs   labels
	// errors are the Redis errors, served after the reads: "collect"
	// counts a read that did not finish in time.
	errors *prometheus.CounterVec
	// busy is set while a read runs: a read still running from an earlier
	// scrape means Redis stalls, and a second is not started beside it.
	busy atomic.Bool

	entries, oldest, waiting, oldestWait, held *prometheus.Desc
}

func newCollector(src Source, timeout time.Duration, now func() time.Time, langs labels, errors *prometheus.CounterVec) *collector {
	return &collector{
		src: src, timeout: timeout, now: now, langs: langs, errors: errors,
		entries: prometheus.NewDesc("helpline_outbox_entries",
			"Outbox entries not yet sent or dropped, by partition.", []string{"partition"}, nil),
		oldest: prometheus.NewDesc("helpline_outbox_oldest_seconds",
			"Age of the oldest outbox entry not yet sent or dropped, by partition; 0 when there is none.", []string{"partition"}, nil),
		waiting: prometheus.NewDesc("helpline_queue_waiting",
			"Cases waiting for a counsellor, by priority and language.", []string{"priority", "lang"}, nil),
		oldestWait: prometheus.NewDesc("helpline_queue_oldest_wait_seconds",
			"How long the longest waiting case of each priority has waited; 0 when none waits.", []string{"priority"}, nil),
		held: prometheus.NewDesc("helpline_queue_held",
			"Cases counsellors hold.", nil, nil),
	}
}

// Describe sends the descriptions of every figure.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.entries, c.oldest, c.waiting, c.oldestWait, c.held} {
		ch <- d
	}
	c.errors.Describe(ch)
}

// figures is what one read found; an error leaves its part out.
type figures struct {
	backlog    []store.Backlog
	backlogErr error
	queue      store.QueueFigures
	queueErr   error
}

// Collect reads Redis and sends the figures it read in time, then the
// Redis errors, with those of this read.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	f, ok := c.read()
	if !ok {
		return
	}
	now := c.now()
	if f.backlogErr == nil {
		for _, b := range f.backlog {
			part := strconv.Itoa(b.Part)
			ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(b.Entries), part)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age(now, b.Oldest), part)
		}
	}
	if f.queueErr == nil {
		c.sendQueue(ch, f.queue, now)
	}
}

// sendQueue sends the queue's figures: a series for every priority and
// language, waited on or not.
func (c *collector) sendQueue(ch chan<- prometheus.Metric, q store.QueueFigures, now time.Time) {
	count := make([][]int, len(priorityNames))
	var since [len(priorityNames)]time.Time
	for p := range count {
		count[p] = make([]int, len(c.langs.names))
	}
	for _, w := range q.Waiting {
		p := min(int(w.Priority), len(priorityNames)-1)
		count[p][c.langs.index(w.Lang)]++
		if since[p].IsZero() || w.Since.Before(since[p]) {
			since[p] = w.Since
		}
	}
	for p, name := range priorityNames {
		for l, lang := range c.langs.names {
			ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(count[p][l]), name, lang)
		}
		ch <- prometheus.MustNewConstMetric(c.oldestWait, prometheus.GaugeValue, age(now, since[p]), name)
	}
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(q.Held))
}

// read reads the figures, waiting at most the timeout. A read that does
// not finish in time counts as a Redis error; one that fails was counted
// by the command that failed.
func (c *collector) read() (figures, bool) {
	if !c.busy.CompareAndSwap(false, true) {
		c.errors.WithLabelValues("collect").Inc()
		return figures{}, false
	}
	done := make(chan figures, 1) // the read never waits for a scrape that gave up
	go func() {
		defer c.busy.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		var f figures
		f.backlog, f.backlogErr = c.src.OutboxBacklog(ctx)
		f.queue, f.queueErr = c.src.QueueFigures(ctx)
		done <- f
	}()
	// A little longer than the reads' own deadline, so that a read that
	// keeps to it is not also counted here.
	t := time.NewTimer(c.timeout + c.timeout/10)
	defer t.Stop()
	select {
	case f := <-done:
		return f, true
	case <-t.C:
		c.errors.WithLabelValues("collect").Inc()
		return figures{}, false
	}
}

// age is how long ago t was, in seconds; 0 for no time, or one ahead of
// this replica's clock.
func age(now, t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t).Seconds(), 0)
}
