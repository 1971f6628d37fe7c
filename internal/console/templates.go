package console

import (
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"when":     when,
	"whenPtr":  func(t *time.Time) string { return whenPtr(t) },
	"duration": formatDuration,
	"join":     strings.Join,
	"input":    input,
	"grantKey": func(audience, scope string) string { return audience + " " + scope },
	"percent":  percent,
	// The authentication fields and how a stored client authenticates.
	"authFields":   authFields,
	"methodLabel":  methodLabel,
	"subjectLabel": subjectLabel,
}

// inputField is one labelled text input with its hint and error.
type inputField struct {
	ID, Name, Label, Value, Error, Hint string
}

func input(id, name, label, value, err, hint string) inputField {
	return inputField{id, name, label, value, err, hint}
}

// percent is how much of quota count is, capped at 100.
func percent(count, quota int64) int64 {
	if quota <= 0 {
		return 0
	}
	return min(100, count*100/quota)
}

// parsePages parses each page template together with the layout.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", n))
	}
	return pages
}

// when writes a time in UTC, to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

// formatDuration writes 24h0m0s as 24h and 1h30m0s as 1h30m.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
