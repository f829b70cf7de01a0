package telegram

// workers runs functions on goroutines that are kept for the next function
// once theirs returns. A new goroutine's stack starts small and is copied
// at every doubling; one that has handled an update has the stack the next
// one needs. When each chat of a polled batch, and each answer to a tap,
// had a goroutine of its own, growing their stacks took 9 % of the
// helpline's CPU under load.
type workers struct {
	idle chan chan func()
	done chan struct{}
}

// maxIdle is how many workers wait for work at most: a batch holds up to
// 100 updates, and their answers go on beside the next batch.
const maxIdle = 256

func newWorkers() *workers {
	return &workers{idle: make(chan chan func(), maxIdle), done: make(chan struct{})}
}

// Go runs f on an idle worker, or on a new one when none is idle. It must
// not be called after stop.
func (w *workers) Go(f func()) {
	select {
	case ch := <-w.idle:
		ch <- f
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	ch := make(chan func())
	for {
		f()
		select {
		case w.idle <- ch:
		default:
			return // enough wait already
		}
		select {
		case f = <-ch:
		case <-w.done:
			return
		}
	}
}

// stop ends the idle workers, once no more work will come.
func (w *workers) stop() { close(w.done) }
