package flow

// CommandName returns the name of the global command a message runs, by the
// same rules as Step: a message the safety detector raises an alarm for
// runs no command; otherwise a whole message that is a slash form or a
// keyword does. It returns "" for any other message.
// A channel uses it to prepare what a command needs of it (Telegram's clear
// chat) before the step runs.
func (e *Engine) CommandName(text string) string {
	if text == "" {
		return ""
	}
	cmd := e.command(text, Normalize(text))
	// The detector only for a message that would run a command: most run
	// none, and Step checks every message again.
	if cmd == nil || e.opts.Detector.Detect(text).Raised() {
		return ""
	}
	return cmd.Name
}
