// Package metricstest reads the helpline's metrics in tests as Prometheus
// does: over HTTP, in the text format.
package metricstest

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape reads the metrics served at url, by metric family name.
func Scrape(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// Value is the value of the series of family name with exactly the labels
// given (name, value pairs); ok is false when there is no such series. A
// histogram's value is its number of observations.
func Value(families map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	for _, m := range families[name].GetMetric() {
		if len(m.Label) == len(labels)/2 && hasLabels(m, labels) {
			return number(m), true
		}
	}
	return 0, false
}

// Sum adds up the series of family name that have the labels given,
// whatever their other labels.
func Sum(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	var total float64
	for _, m := range families[name].GetMetric() {
		if hasLabels(m, labels) {
			total += number(m)
		}
	}
	return total
}

func number(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// hasLabels reports whether m has every label of labels (name, value
// pairs).
func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
