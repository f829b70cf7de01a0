package telegram

import (
	"context"
	"regexp"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Texts renders the command menu's descriptions in each language.
type Texts interface {
	// Languages lists the shipped languages, the fallback first.
	Languages() []string
	Text(lang, id string, vars map[string]string, count *int) (string, bool)
}

// MenuItem is one entry of the command menu.
type MenuItem struct {
	// Command is the slash command without its slash.
	Command string
	// Description is the message ID of what the command does.
	Description string
}

// validCommand is what Telegram accepts as a menu command.
var validCommand = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// Menus returns the command menu in each language, and under "" the menu
// for every other language, in the fallback language.
func Menus(items []MenuItem, texts Texts) map[string][]models.BotCommand {
	langs := texts.Languages()
	out := make(map[string][]models.BotCommand, len(langs)+1)
	for _, lang := range langs {
		out[lang] = menu(items, texts, lang)
	}
	if len(langs) > 0 {
		out[""] = out[langs[0]]
	}
	return out
}

func menu(items []MenuItem, texts Texts, lang string) []models.BotCommand {
	var cmds []models.BotCommand
	for _, it := range items {
		d, _ := texts.Text(lang, it.Description, nil, nil)
		if validCommand.MatchString(it.Command) && d != "" && d != it.Description && utf8.RuneCountInString(d) <= 256 {
			cmds = append(cmds, models.BotCommand{Command: it.Command, Description: d})
		}
	}
	return cmds
}

// setMenu sets the command menu of every language once, retrying while
// Telegram cannot be reached.
func (c *Channel) setMenu(ctx context.Context) {
	if len(c.opts.Menu) == 0 || c.deps.Texts == nil {
		return
	}
	for lang, cmds := range Menus(c.opts.Menu, c.deps.Texts) {
		back := backoff{}
		for tries := 0; ctx.Err() == nil; tries++ {
			err := c.api.SetCommands(ctx, lang, cmds)
			if err == nil {
				break
			}
			if tries == 5 {
				c.log.Warn("telegram command menu not set", "lang", lang, "err", err)
				break
			}
			sleep(ctx, back.next(err))
		}
	}
}
