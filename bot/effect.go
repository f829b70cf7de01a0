package bot

// Priority orders counsellor cases: urgent first.
type Priority uint8

// The priorities of a case, lowest first.
const (
	Normal Priority = iota
	High
	Urgent
)

// ParsePriority reads a priority's name; ok is false for an unknown name.
func ParsePriority(s string) (p Priority, ok bool) {
	switch s {
	case "", "normal":
		return Normal, true
	case "high":
		return High, true
	case "urgent":
		return Urgent, true
	}
	return Normal, false
}

func (p Priority) String() string {
	switch p {
	case High:
		return "high"
	case Urgent:
		return "urgent"
	}
	return "normal"
}

// EffectKind says what the host must do beyond sending replies.
type EffectKind uint8

// The effects a conversation step may ask of the host.
const (
	// Handoff asks for a counsellor: Priority, Topic and Card are set.
	Handoff EffectKind = iota + 1
	// Alert means danger words were seen: an open case becomes urgent.
	Alert
	// Relay carries the person's Text to the counsellor holding the case.
	Relay
	// Erase deletes everything kept about the person.
	Erase
	// Count adds one to the aggregate counter Name.
	Count
	// Problem reports an authoring mistake found at run time (Name says
	// which); it never carries the person's words.
	Problem
)

// Effect is something a conversation step asks the host to do.
type Effect struct {
	Kind     EffectKind
	Name     string
	Priority Priority
	Topic    string
	Card     map[string]string
	Text     string
}
