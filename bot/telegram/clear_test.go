package telegram_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline/helpline/bot/telegram"
	"github.com/helpline/helpline/bot/telegram/telegramtest"
)

// waitLimit bounds how long a test waits for the fake Bot API to see a call.
const waitLimit = 10 * time.Second

func updateID(t *testing.T, u []byte) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"update_id"`
	}
	if err := json.Unmarshal(u, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// deleted returns the message IDs deleteMessages calls named.
func deleted(t *testing.T, calls []telegramtest.Call) []int {
	t.Helper()
	var ids []int
	for _, c := range calls {
		if c.Method != "deleteMessages" {
			continue
		}
		var batch []int
		if err := json.Unmarshal([]byte(c.Params["message_ids"]), &batch); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, batch...)
	}
	slices.Sort(ids)
	return ids
}

// TestClearChat clears the chat: every message of the conversation, both
// ways, is deleted from the phone, including the photo the person sent and
// the clear command itself, and one neutral line is left.
func TestClearChat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(chat, "en")
	r := p.Say("hello")
	r = p.Tap(r.Buttons[0].Text)
	p.Tap(h.text("en", "welcome.safe_yes"))
	photo, id := h.fake.Photo(chat)
	p.IDs = append(p.IDs, id)
	p.Deliver(photo)
	p.Next()
	before := slices.Clone(p.IDs)
	r = p.Say("/clear")
	if r.Text != h.text("en", "clear.done") || len(r.Buttons) != 0 {
		t.Fatalf("after clearing: %+v, want the one neutral line", r)
	}
	asked := p.IDs[len(p.IDs)-2]
	want := append(before, asked)
	slices.Sort(want)
	if got := deleted(t, h.fake.Calls()); !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want every message of the chat %v", got, want)
	}
	// The neutral line was sent after the deletions.
	calls := h.fake.Calls()
	if last := calls[len(calls)-1]; last.Method != "sendMessage" {
		t.Fatalf("the last call is %s", last.Method)
	}

	// A clear by keyword, in another language, deletes what came since.
	p.Lang = "ru"
	p.Say("язык")
	r = p.Tap("Русский")
	since := p.IDs[len(want)+1:] // after the neutral line
	p.Say("очистить чат")
	got := deleted(t, h.fake.Calls()[len(calls):])
	for _, id := range append(since, p.IDs[len(want)]) {
		if !slices.Contains(got, id) {
			t.Fatalf("the second clear deleted %v; %d is missing (%v)", got, id, p.IDs)
		}
	}
	if p.Last.Text != h.text("ru", "clear.done") {
		t.Fatalf("neutral line %q", p.Last.Text)
	}
	h.assertClean(itoa(chat), "очистить", "/clear")
}

// TestClearAfterErase keeps no trail of a person who asked to be
// forgotten: erase deletes it with everything else, and neither the erase
// message nor the last reply brings it back.
func TestClearAfterErase(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(chat, "en")
	p.Say("hello")
	if len(h.personKeys(chat)) == 0 {
		t.Fatal("no keys after a message")
	}
	p.Say("forget me")
	h.outboxEmpty()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	<-ctx.Done() // the trail writes off the hot path: give a wrong write its time
	if keys := h.personKeys(chat); len(keys) != 0 {
		t.Fatalf("keys left after erase: %v", keys)
	}
}

// TestTrailIsSealed keeps message IDs sealed: the trail is one sealed
// string, and no plain ID is stored.
func TestTrailIsSealed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(chat, "en")
	p.Say("hello")
	key := fmt.Sprintf("%s:{%d}:n:%s", h.prefix, h.st.Partition(h.pid(chat)), h.pid(chat))
	for range 100 {
		if h.rdb.Exists(context.Background(), key).Val() == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sealed, err := h.rdb.Get(context.Background(), key).Bytes()
	if err != nil || len(sealed) < 28 {
		t.Fatalf("trail %q, %v; want a sealed string", sealed, err)
	}
	if _, err := h.keys.Open(sealed, h.pid(chat)); err != nil {
		t.Fatalf("the trail does not open for its person: %v", err)
	}
	dump := h.dump()
	for _, id := range p.IDs {
		if strings.Contains(dump, "\n"+itoa(id)+"\n") || strings.Contains(dump, " "+itoa(id)+" ") || strings.Contains(dump, "["+itoa(id)) {
			t.Errorf("message ID %d is stored in the clear", id)
		}
	}
}

// TestClearReadsTheOldTrail: the message IDs a version before the sealed
// trail kept, each sealed alone in a set, are deleted by clear chat with
// those recorded since, and the old set goes.
func TestClearReadsTheOldTrail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.person(chat, "en")
	p.Say("hello")
	pid := h.pid(chat)
	old := fmt.Sprintf("%s:{%d}:m:%s", h.prefix, h.st.Partition(pid), pid)
	ctx := context.Background()
	for _, id := range []int{901, 902} {
		h.rdb.ZAdd(ctx, old, redis.Z{Score: float64(time.Now().Unix()), Member: h.keys.Seal([]byte(itoa(id)), pid)})
	}
	before := slices.Clone(p.IDs)
	p.Say("/clear")
	asked := p.IDs[len(p.IDs)-2]
	want := append(before, asked, 901, 902)
	slices.Sort(want)
	if got := deleted(t, h.fake.Calls()); !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
	if h.rdb.Exists(ctx, old).Val() != 0 {
		t.Fatal("the old trail is still there after clear chat")
	}
}

// TestMenu sets the command menu in every language, and in the fallback
// language for the rest.
func TestMenu(t *testing.T) {
	t.Parallel()
	items := []telegram.MenuItem{{Command: "start", Description: "telegram.start"}, {Command: "clear", Description: "telegram.clear"}, {Command: "nodesc", Description: "telegram.nothing"}}
	h := newHarness(t, setup{opts: func(o *telegram.Options) { o.Menu = items }})
	ok := h.fake.Wait(waitLimit, func(calls []telegramtest.Call) bool {
		n := 0
		for _, c := range calls {
			if c.Method == "setMyCommands" {
				n++
			}
		}
		return n == len(h.cat.Languages())+1
	})
	if !ok {
		t.Fatalf("calls %v, want setMyCommands for every language and the rest", h.fake.Methods())
	}
	menus := map[string]string{}
	for _, c := range h.fake.Calls() {
		menus[c.Params["language_code"]] = c.Params["commands"]
	}
	if menus[""] != menus["en"] || !strings.Contains(menus["et"], h.text("et", "telegram.clear")) || strings.Contains(menus["ru"], "nodesc") {
		t.Fatalf("menus %v", menus)
	}
	if code := h.post([]byte(`{"update_id":1}`)); code != http.StatusOK {
		t.Fatal(code)
	}
}
