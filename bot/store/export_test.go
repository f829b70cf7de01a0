package store

// CommitsWaiting returns how many commits wait for the batch in flight.
func (s *Store) CommitsWaiting() int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.waiting)
}
