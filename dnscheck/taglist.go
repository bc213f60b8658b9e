package dnscheck

// The tag=value list of RFC 6376 §3.2, shared by DKIM key records and DMARC
// policy records (RFC 9989 "General Record Format" says DMARC records follow
// the DKIM tag-value syntax).
//
//	tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//	tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//	tag-name  =  ALPHA *ALNUMPUNC          ; ALNUMPUNC = ALPHA / DIGIT / "_"
//	tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
//	tval      =  1*VALCHAR                 ; VALCHAR = %x21-3A / %x3C-7E
//
// The parser never gives up on the first error: a health checker wants every
// problem in the record, each with its position, and the tags it could read.

import (
	"fmt"
	"strings"
)

// TagSpec is one tag=value pair as written in the record.
type TagSpec struct {
	Name  string `json:"name"`  // as written (tag names are case-sensitive, RFC 6376 §3.2)
	Value string `json:"value"` // surrounding whitespace removed
	Pos   int    `json:"pos"`   // 0-based byte offset of the name in the record
}

// TagSyntaxError is one problem in a record, at a byte offset.
type TagSyntaxError struct {
	Pos int    `json:"pos"` // 0-based byte offset
	Msg string `json:"msg"`
}

func (e TagSyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

// IsWSP reports whether c is white space inside a tag list (WSP, or CR and LF of folding).
func IsWSP(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// IsAlpha reports whether c is an ASCII letter (ABNF ALPHA).
func IsAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// IsDigit reports whether c is an ASCII digit (ABNF DIGIT).
func IsDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseTagList splits a record into its tags. Duplicate tag names are an
// error (RFC 6376 §3.2: "the entire tag-list is invalid"); the first
// occurrence is kept so that the rest of the record can still be judged.
func ParseTagList(s string) ([]TagSpec, []TagSyntaxError) {
	var tags []TagSpec
	var errs []TagSyntaxError
	seen := map[string]int{}
	start := 0
	for start <= len(s) {
		end := strings.IndexByte(s[start:], ';')
		last := end < 0
		if last {
			end = len(s)
		} else {
			end += start
		}
		seg := s[start:end]
		lead := 0
		for lead < len(seg) && IsWSP(seg[lead]) {
			lead++
		}
		body := strings.TrimRight(seg[lead:], " \t\r\n")
		pos := start + lead
		switch {
		case body == "" && last:
			// trailing ";" (allowed) or an empty record
		case body == "":
			errs = append(errs, TagSyntaxError{Pos: pos, Msg: "empty tag between two semicolons"})
		default:
			if t, e := parseTagSpec(body, pos); e != nil {
				errs = append(errs, *e)
			} else if first, dup := seen[t.Name]; dup {
				errs = append(errs, TagSyntaxError{Pos: pos, Msg: fmt.Sprintf("tag %q appears again (first at column %d); duplicate tags make the record invalid", t.Name, first+1)})
			} else {
				seen[t.Name] = pos
				tags = append(tags, t)
			}
		}
		if last {
			break
		}
		start = end + 1
	}
	return tags, errs
}

func parseTagSpec(body string, pos int) (TagSpec, *TagSyntaxError) {
	eq := strings.IndexByte(body, '=')
	if eq < 0 {
		return TagSpec{}, &TagSyntaxError{Pos: pos, Msg: fmt.Sprintf("%q is not tag=value", Clip(body))}
	}
	name := strings.TrimRight(body[:eq], " \t\r\n")
	if name == "" {
		return TagSpec{}, &TagSyntaxError{Pos: pos, Msg: "a value without a tag name"}
	}
	if !IsAlpha(name[0]) {
		return TagSpec{}, &TagSyntaxError{Pos: pos, Msg: fmt.Sprintf("tag name %q must start with a letter", Clip(name))}
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !(IsAlpha(c) || IsDigit(c) || c == '_') {
			return TagSpec{}, &TagSyntaxError{pos + i, fmt.Sprintf("tag name %q contains %q", Clip(name), c)}
		}
	}
	vstart := eq + 1
	for vstart < len(body) && IsWSP(body[vstart]) {
		vstart++
	}
	value := body[vstart:]
	for i := 0; i < len(value); i++ {
		c := value[i]
		if !(c >= 0x21 && c <= 0x7e || IsWSP(c)) {
			return TagSpec{}, &TagSyntaxError{pos + vstart + i, fmt.Sprintf("the value of %q contains the byte 0x%02x, which is not printable ASCII", name, c)}
		}
	}
	return TagSpec{Name: name, Value: value, Pos: pos}, nil
}

// Clip shortens text quoted in an error message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// RemoveWSP drops all whitespace (base64 values may be folded, RFC 6376 §3.6.1).
func RemoveWSP(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
