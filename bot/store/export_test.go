package store

// CommitsWaiting returns how many commits wait for the batch in flight.
func (s *Store) CommitsWaiting() int {
	b := s.commits.one
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting)
}
