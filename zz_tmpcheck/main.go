package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/helpline/helpline/bot/flow"
	"github.com/helpline/helpline/bot/lang"
	"github.com/helpline/helpline/bot/sms"
	"github.com/helpline/helpline/flows"
	"github.com/helpline/helpline/locales"
)

var ph = regexp.MustCompile(`\{\{[^}]*\}\}`)

func main() {
	c, err := lang.Load(locales.FS())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	set, err := flow.Load(flows.FS())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	_ = set
	en := c.IDs("en")
	for _, l := range c.Languages() {
		ids := c.IDs(l)
		fmt.Println(l, len(ids), "messages")
		have := map[string]bool{}
		for _, id := range ids {
			have[id] = true
		}
		for _, id := range en {
			if !have[id] {
				fmt.Println("  missing", id)
			}
		}
		for _, id := range ids {
			m, me := c.Message(l, id), c.Message("en", id)
			if me == nil {
				fmt.Println("  extra", id)
				continue
			}
			a := ph.FindAllString(m.Other+m.One+m.Few+m.Many, -1)
			b := ph.FindAllString(me.Other+me.One, -1)
			sa, sb := uniq(a), uniq(b)
			if sa != sb {
				fmt.Println("  placeholders", id, sa, "vs", sb)
			}
			if l != "en" && m.Other == me.Other {
				fmt.Println("  same as en", id)
			}
			for _, t := range []string{m.Other, m.One, m.Few, m.Many} {
				if n, _ := sms.Segments(t); n > 3 && !strings.HasPrefix(id, "words.") {
					fmt.Println("  segments", n, id, len([]rune(t)))
				}
			}
		}
	}
}

func uniq(s []string) string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	var o []string
	for k := range m {
		o = append(o, k)
	}
	sort.Strings(o)
	return strings.Join(o, ",")
}
