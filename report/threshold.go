package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a threshold in the Monitoring Plugins range syntax
// ([@]start:end, "~" for minus infinity, an empty end for plus infinity,
// "N" alone for 0:N). A value outside the range alerts; with "@", a value
// inside it does. See the guidelines' "Threshold and ranges" section.
type Range struct {
	Start, End float64 // -Inf / +Inf when open
	Inside     bool    // "@": alert when start <= value <= end
	text       string
}

// ParseRange parses a threshold range.
func ParseRange(s string) (Range, error) {
	r := Range{text: s}
	body := s
	if strings.HasPrefix(body, "@") {
		r.Inside = true
		body = body[1:]
	}
	if body == "" {
		return Range{}, fmt.Errorf("threshold %q: empty range", s)
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "", body // "N" is 0:N
	}
	var err error
	if r.Start, err = rangeStart(start); err != nil {
		return Range{}, fmt.Errorf("threshold %q: %v", s, err)
	}
	if r.End, err = rangeEnd(end); err != nil {
		return Range{}, fmt.Errorf("threshold %q: %v", s, err)
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("threshold %q: start %v is greater than end %v", s, r.Start, r.End)
	}
	return r, nil
}

// rangeStart: "~" is minus infinity, an omitted start is 0.
func rangeStart(s string) (float64, error) {
	switch s {
	case "~":
		return math.Inf(-1), nil
	case "":
		return 0, nil
	}
	return rangeNumber(s)
}

// rangeEnd: an omitted end is plus infinity.
func rangeEnd(s string) (float64, error) {
	if s == "" {
		return math.Inf(1), nil
	}
	return rangeNumber(s)
}

func rangeNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// Alert reports whether v is outside the range (inside, with "@").
func (r Range) Alert(v float64) bool {
	in := v >= r.Start && v <= r.End
	if r.Inside {
		return in
	}
	return !in
}

// String is the range as written.
func (r Range) String() string { return r.text }
