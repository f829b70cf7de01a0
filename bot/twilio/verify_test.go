package twilio

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/flow/flowtest"
	"github.com/helpline/helpline/bot/twilio/twiliotest"
)

// vector is one of Twilio's own signature test vectors.
type vector struct {
	Name      string            `json:"name"`
	AuthToken string            `json:"auth_token"`
	URL       string            `json:"url"`
	Params    map[string]string `json:"params"`
	Signature string            `json:"signature"`
	Valid     bool              `json:"expected_valid_per_source"`
}

// TestSignatureVectors posts every vector of Twilio's helper libraries to
// the webhook, served at the vector's URL: the valid ones pass the
// signature check (and are refused later, 400, for want of a message), the
// others are refused with 403.
func TestSignatureVectors(t *testing.T) {
	var vectors []vector
	b, err := os.ReadFile("testdata/signature_vectors.json")
	if err == nil {
		err = json.Unmarshal(b, &vectors)
	}
	if err != nil || len(vectors) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	_, cat := flowtest.Shipped(t)
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			u, err := url.Parse(v.URL)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := New(nil, nil, cat, slog.New(slog.DiscardHandler), Options{
				AccountSID: testSID, AuthToken: v.AuthToken, PublicURL: u.Scheme + "://" + u.Host, From: "+3725550000",
				EraseCommand: "/erase", Normalize: flow.Normalize,
			})
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{}
			for k, val := range v.Params {
				form.Set(k, val)
			}
			req := httptest.NewRequest("POST", u.RequestURI(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", v.Signature)
			rec := httptest.NewRecorder()
			ch.inbound(rec, req)
			if refused := rec.Code == http.StatusForbidden; refused == v.Valid {
				t.Fatalf("status %d, want the signature valid=%v", rec.Code, v.Valid)
			}
		})
	}
}

// TestFixturesSignedAndUnsigned posts the provider's own webhook posts:
// signed for the public URL they are accepted; unsigned, signed with
// another token, or signed for the Host the request came to, they are
// refused.
func TestFixturesSignedAndUnsigned(t *testing.T) {
	h := newHarness(t, nil)
	for name, path := range map[string]string{
		"courier_sms_receive.json":              inboundPath,
		"courier_sms_receive_media.json":        inboundPath,
		"courier_whatsapp_receive.json":         inboundPath,
		"courier_status_delivered.json":         statusPath,
		"courier_status_failed_21610_stop.json": statusPath,
	} {
		f := loadFixture(t, name)
		form, err := url.ParseQuery(f.RawBody)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{form.Get("From"), form.Get("To")} {
			if n != "" {
				h.secret[n] = "number"
			}
		}
		for sig, want := range map[string]int{
			"": http.StatusForbidden,
			twiliotest.SignForm("other", testURL+path, form):     http.StatusForbidden,
			twiliotest.SignForm(testToken, h.srv.URL+path, form): http.StatusForbidden,
			twiliotest.SignForm(testToken, testURL+path, form):   map[string]int{inboundPath: 200, statusPath: 204}[path],
		} {
			req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(f.RawBody))
			req.Header.Set("Content-Type", f.ContentType)
			if sig != "" {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s signed %q: status %d, want %d", name, sig, resp.StatusCode, want)
			}
		}
	}
}

// TestJSONBodySigned checks a JSON webhook through its bodySHA256: signed,
// it is taken; with its body changed, refused.
func TestJSONBodySigned(t *testing.T) {
	h := newHarness(t, nil)
	body := []byte(`{"MessageSid":"SM0123456789abcdef0123456789abcdef","From":"+37255500060","Body":"tere","NumMedia":0}`)
	h.secret["+37255500060"] = "number"
	signedURL, sig := twiliotest.SignJSON(testToken, testURL+inboundPath, body)
	u, _ := url.Parse(signedURL)
	for _, c := range []struct {
		body []byte
		want int
	}{
		{body, http.StatusOK},
		{[]byte(strings.Replace(string(body), "tere", "stop", 1)), http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", h.srv.URL+u.RequestURI(), strings.NewReader(string(c.body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.body, resp.StatusCode, c.want)
		}
	}
	if r := h.reply("+37255500060"); !strings.Contains(r, "1. Eesti") {
		t.Fatalf("the JSON message was answered:\n%s", r)
	}
}

// TestInboundAnswersEmptyTwiML checks the exact answer to a message.
func TestInboundAnswersEmptyTwiML(t *testing.T) {
	h := newHarness(t, nil)
	f := loadFixture(t, "courier_sms_receive.json")
	form, _ := url.ParseQuery(f.RawBody)
	h.secret[form.Get("From")] = "number"
	req, _ := http.NewRequest("POST", h.srv.URL+inboundPath, strings.NewReader(f.RawBody))
	req.Header.Set("Content-Type", f.ContentType)
	req.Header.Set("X-Twilio-Signature", twiliotest.SignForm(testToken, testURL+inboundPath, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != emptyTwiML || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("answer %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	h.reply(form.Get("From"))
}
