package report

import (
	"encoding/json"
	"io"
)

// TextOptions tune the text renderer.
type TextOptions struct {
	Color bool // ANSI colour; the caller decides (TTY, NO_COLOR)
	Trace bool // append the DNS query trace
}

// WriteJSON writes the report as one indented JSON document (schema_version inside).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
