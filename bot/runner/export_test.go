package runner

// RemovedKept returns how many removed entries delivery remembers for the
// claims in flight.
func (d *Delivery) RemovedKept() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.removed)
}
