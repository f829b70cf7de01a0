package flow_test

import (
	"io/fs"
	"testing/fstest"

	"github.com/helpline/helpline/bot"
)

func fstestFS(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for name, b := range files {
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

func inbound(text, choice, start string) bot.Inbound {
	return bot.Inbound{Channel: bot.Web, Text: text, Choice: choice, Start: start}
}
