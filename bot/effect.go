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
	// Handoff asks for a counsellor: Priority, Topic, Flags and Card are
	// set. The step put the session's case in the Waiting state, with no
	// code yet: the host gives it one.
	Handoff EffectKind = iota + 1
	// Alert means the person is in danger now: the safety detector matched
	// (Name is its rule, such as "danger.violence") or an answer raised it
	// (Name is "answer.<flag>"). An open case becomes urgent.
	Alert
	// Relay carries what the person wrote (Text) to their open case, or a
	// note for the counsellor (Name: "unsupported" for a photo or the
	// like, or the safety command the person used).
	Relay
	// Erase deletes everything kept about the person.
	Erase
	// Count adds one to the aggregate counter Name.
	Count
	// Problem reports an authoring mistake found at run time (Name says
	// which); it never carries the person's words.
	Problem
	// Cancel means the person cancelled their waiting case.
	Cancel
	// Place asks the host to tell a waiting person their place in the
	// queue.
	Place
)

// Effect is something a conversation step asks the host to do.
type Effect struct {
	Kind     EffectKind
	Name     string
	Priority Priority
	Topic    string
	// Flags name the risks the conversation found, for the counsellor:
	// the flow's risk flags, "minor", and the kinds of alarm raised.
	Flags []string
	Card  map[string]string
	Text  string
}

// Alarm is what the safety detector noticed in one message: the rule of each
// kind that matched, and the language of the lexicon it came from. Rules are
// named by kind, such as "danger.violence" or "selfharm.method"; an alarm
// never holds the person's words.
type Alarm struct {
	// Danger is the danger rule that matched, or "".
	Danger string
	// SelfHarm is the self-harm rule that matched, or "".
	SelfHarm string
	// Lang is the language of the matching lexicon.
	Lang string
}

// Raised reports whether anything matched.
func (a Alarm) Raised() bool { return a.Danger != "" || a.SelfHarm != "" }
