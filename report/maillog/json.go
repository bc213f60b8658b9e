package maillog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// EventWriter streams events as the "events" array of a JSON object,
// one event per line, so that a log of any size is rendered without
// holding its events: the object is finished by Finish with the members
// of another JSON object (the report).
type EventWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

// NewEventWriter starts the object on w.
func NewEventWriter(w io.Writer) *EventWriter {
	ew := &EventWriter{w: bufio.NewWriterSize(w, 64<<10)}
	_, ew.err = ew.w.WriteString("{\n  \"events\": [")
	return ew
}

// Write appends one event.
func (ew *EventWriter) Write(ev *Event) error {
	if ew.err != nil {
		return ew.err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		ew.err = err
		return err
	}
	sep := ",\n    "
	if ew.n == 0 {
		sep = "\n    "
	}
	ew.n++
	ew.w.WriteString(sep)
	_, ew.err = ew.w.Write(b)
	return ew.err
}

// Finish closes the array and adds the members of rest, a JSON object
// ("{…}"), after it.
func (ew *EventWriter) Finish(rest []byte) error {
	if ew.err != nil {
		return ew.err
	}
	rest = bytes.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '{' || rest[len(rest)-1] != '}' {
		return errors.New("maillog: the report is not a JSON object")
	}
	if ew.n > 0 {
		ew.w.WriteString("\n  ")
	}
	ew.w.WriteString("]")
	if body := bytes.TrimSpace(rest[1 : len(rest)-1]); len(body) > 0 {
		ew.w.WriteString(",\n  ")
		ew.w.Write(body)
	}
	ew.w.WriteString("\n}\n")
	return ew.w.Flush()
}
