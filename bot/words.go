package bot

// sessionWords are the names sessions hold most: the IDs of the shipped
// flows and their nodes, the variables and the values the flows set, the
// language codes. A session stores a name found here as its place in the
// list (one byte for the first 64, two up to 8,192), any other name as
// itself: a flow an organisation adds works the same, its names cost only
// their length.
//
// The list only grows. A name's place is written in sessions that live for
// days, so an entry is never removed, moved or changed; new names go at
// the end; TestSessionWordsOnlyGrow holds the words already shipped in
// place. TestSessionWords (bot/flow) lists the names of the shipped flows
// that are missing.
var sessionWords = [...]string{
	"yes", "no", "not sure", "skipped", "0", "1", "2", "3", "4", "5", "6", "_risks", "_alert",
	"_alarm", "_noted", "_safety", "_score", "shown", "risk", "note", "en", "ru", "uk", "et", "lv",
	"lt", "pl", "ro", "bg", "sr", "sq", "tr", "welcome", "menu", "main", "start", "selfcheck",
	"safework", "rights", "helpnow", "findhelp", "someone", "counsellor", "intake", "return",
	"safety", "language", "clear", "help", "danger", "selfharm", "documents_kept", "debt", "not_free",
	"threats", "deceived", "sex", "age", "country", "q_sex", "a1", "a2", "a3", "about", "after",
	"age_q", "all", "ask", "back", "check", "childcare", "choose", "choose_language", "compensation",
	"contacts", "documents", "done", "education", "erase", "erase_now", "everyone", "expect",
	"family", "few", "handoff", "help_wanted", "home", "housing", "intro", "isolated", "legal",
	"many", "medical", "mentor", "minor", "minor_info", "money", "more", "most", "none", "normal",
	"not_safe", "note_q", "offer", "q1", "q2", "q3", "q_alone", "q_debt", "q_docs", "q_leave",
	"q_pay", "q_threat", "q_work", "qualifications", "quiz", "region", "result", "route", "safe",
	"safe_now", "sexual", "share", "shelter", "show", "signs", "some", "someone_else", "stay", "talk",
	"time", "todo", "unsafe", "unsafe_now", "urgent", "urgent_handoff", "wages", "wages_held", "wait",
	"want", "ways", "within", "work",
	// Added after version 3 shipped.
	"hours", "closed",
	// Added for an alarm raised during the intake.
	"update",
}

// wordPlace finds a word's place in sessionWords.
var wordPlace = func() map[string]int {
	m := make(map[string]int, len(sessionWords))
	for i, w := range sessionWords {
		if _, dup := m[w]; dup {
			panic("bot: session word listed twice: " + w)
		}
		m[w] = i
	}
	return m
}()

// SessionWord reports whether a session stores name as its place in the
// list of session words.
func SessionWord(name string) bool {
	_, ok := wordPlace[name]
	return ok
}
