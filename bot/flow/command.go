package flow

// CommandName returns the name of the global command a message runs, by the
// same rules as Step: danger words anywhere first, then a whole message
// that is a slash form or a keyword. It returns "" for any other message.
// A channel uses it to prepare what a command needs of it (Telegram's clear
// chat) before the step runs.
func (e *Engine) CommandName(text string) string {
	if text == "" {
		return ""
	}
	norm := Normalize(text)
	if p := e.danger(norm); p != nil {
		return p.cmd.Name
	}
	if cmd := e.command(text, norm); cmd != nil {
		return cmd.Name
	}
	return ""
}
