package webchat

import "sync"

// hub tells the open pages of this replica that replies wait for them.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan []byte]struct{}
}

func newHub() *hub { return &hub{subs: map[string]map[chan []byte]struct{}{}} }

func (h *hub) add(pid string) chan []byte {
	ch := make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[pid] == nil {
		h.subs[pid] = map[chan []byte]struct{}{}
	}
	h.subs[pid][ch] = struct{}{}
	return ch
}

func (h *hub) remove(pid string, ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[pid], ch)
	if len(h.subs[pid]) == 0 {
		delete(h.subs, pid)
	}
}

// notify wakes the pages of pid. A final reply is handed over itself; a
// plain note only wakes the page to read its mailbox, so a page that is
// already awake loses nothing when a note is dropped.
func (h *hub) notify(pid string, final []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[pid] {
		if final != nil {
			select {
			case <-ch: // make room: the final reply matters more than a wake-up
			default:
			}
		}
		select {
		case ch <- final:
		default:
		}
	}
}
