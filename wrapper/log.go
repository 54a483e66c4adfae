package wrapper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// newLogger returns tfauth's logger: stderr only, warnings and errors by
// default, TFAUTH_LOG=info|debug for more. Under GitHub Actions warnings and
// errors use the workflow-command annotation forms.
func newLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	level := slog.LevelWarn
	switch strings.ToLower(getenv("TFAUTH_LOG")) {
	case "debug", "trace":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "error":
		level = slog.LevelError
	}
	return slog.New(&lineHandler{
		w:      w,
		level:  level,
		github: getenv("GITHUB_ACTIONS") == "true",
		mu:     &sync.Mutex{},
	})
}

// lineHandler prints one human-readable line per record:
//
//	tfauth: warning: identity "plat-prod" failed: ... key=value
type lineHandler struct {
	w      io.Writer
	level  slog.Level
	github bool
	attrs  []slog.Attr
	mu     *sync.Mutex
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	switch {
	case h.github && r.Level >= slog.LevelError:
		b.WriteString("::error::")
	case h.github && r.Level >= slog.LevelWarn:
		b.WriteString("::warning::")
	}
	b.WriteString("tfauth: ")
	switch {
	case h.github && r.Level >= slog.LevelWarn:
		// the annotation already says error or warning
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, quoteIfNeeded(a.Value.String()))
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	msg := b.String()
	if h.github {
		// A workflow command is one line: encode % and line breaks as the
		// runner's toolkit does (escapeData); a bare carriage return would
		// end the command early, as a newline does.
		msg = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(msg)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, msg+"\n")
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup is not used by tfauth; groups are flattened.
func (h *lineHandler) WithGroup(string) slog.Handler { return h }

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
