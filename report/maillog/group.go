package maillog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mxray/mxray/report/catalog"
	"github.com/mxray/mxray/report/message"
)

// Groups gathers events by cause: one group per direction, reason and
// catalog cause. Memory is bounded by MaxGroups and by the bound of each
// group's counters, whatever the number of events.
type Groups struct {
	MaxGroups int // default 500; later causes go to the last group "other"
	m         map[string]*Group
	list      []*Group
}

// Group is every event of one cause.
type Group struct {
	Direction string                  `json:"direction"`
	Reason    string                  `json:"reason"`
	Cause     string                  `json:"cause"`
	Count     int                     `json:"count"`
	Actions   map[string]int          `json:"actions"` // rejected, bounced, deferred, expired
	First     time.Time               `json:"first,omitzero"`
	Last      time.Time               `json:"last,omitzero"`
	Example   Event                   `json:"example"` // the first event (with its line)
	Hosts     *Counter                `json:"remote_hosts"`
	IPs       *Counter                `json:"remote_ips"`
	Domains   *Counter                `json:"recipient_domains"`
	Senders   *Counter                `json:"sender_domains"`
	Listed    *Counter                `json:"listed"` // "zone ip" pairs the replies name (blocklist refusals)
	Stages    map[catalog.Stage]int   `json:"stages"`
	Codes     map[string]int          `json:"codes"` // "550 5.1.1"
	sample    *message.ExplainedReply // the example as an explained reply
}

// Add counts an event in its group.
func (gs *Groups) Add(ev *Event) {
	if gs.m == nil {
		gs.m = map[string]*Group{}
		if gs.MaxGroups <= 0 {
			gs.MaxGroups = 500
		}
	}
	key := ev.Direction + "|" + ev.Reason + "|" + ev.Cause
	g, ok := gs.m[key]
	if !ok {
		if len(gs.list) >= gs.MaxGroups {
			key = "other"
			g = gs.m[key]
		}
		if g == nil {
			g = newGroup(ev)
			if key == "other" {
				g.Cause, g.Reason = "other", "undefined"
			}
			gs.m[key] = g
			gs.list = append(gs.list, g)
		}
	}
	g.add(ev)
}

func newGroup(ev *Event) *Group {
	return &Group{Direction: ev.Direction, Reason: ev.Reason, Cause: ev.Cause, Actions: map[string]int{},
		Example: *ev, Hosts: NewCounter(1000), IPs: NewCounter(1000), Domains: NewCounter(1000),
		Senders: NewCounter(1000), Listed: NewCounter(1000), Stages: map[catalog.Stage]int{}, Codes: map[string]int{}}
}

func (g *Group) add(ev *Event) {
	g.Count++
	g.Actions[ev.Action]++
	if !ev.Time.IsZero() {
		if g.First.IsZero() || ev.Time.Before(g.First) {
			g.First = ev.Time
		}
		if ev.Time.After(g.Last) {
			g.Last = ev.Time
		}
	}
	g.Hosts.Add(ev.RemoteHost)
	g.IPs.Add(ev.RemoteIP)
	g.Domains.Add(domainOf(ev.Recipient))
	g.Senders.Add(domainOf(ev.Sender))
	if len(g.Stages) < 20 {
		g.Stages[ev.Stage]++
	}
	if code := codeKey(ev); code != "" && (len(g.Codes) < 50 || g.Codes[code] > 0) {
		g.Codes[code]++
	}
	if z := ev.Captures["zone"]; z != "" {
		ip := ev.Captures["ip"]
		if ip == "" && ev.Direction == Inbound {
			ip = ev.RemoteIP // this server's own refusal names its client
		}
		if ip != "" {
			g.Listed.Add(strings.ToLower(z) + " " + ip)
		}
	}
}

func codeKey(ev *Event) string {
	switch {
	case ev.Code != 0 && ev.EnhancedCode != "":
		return fmt.Sprintf("%d %s", ev.Code, ev.EnhancedCode)
	case ev.Code != 0:
		return fmt.Sprint(ev.Code)
	}
	return ev.EnhancedCode
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// List returns the groups, the largest first.
func (gs *Groups) List() []*Group {
	out := append([]*Group(nil), gs.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// Reply is the group's example as an explained reply, for the live
// follow-up (report/message's type).
func (g *Group) Reply() message.ExplainedReply {
	ev := g.Example
	er := message.ExplainedReply{Recipient: ev.Recipient, Source: ev.MTA + "-log", Action: ev.Action, Status: ev.DSN,
		Reply: ev.Reply, Explanation: ev.Explanation}
	if ev.Direction != Inbound {
		// The host that refused this server is not the sender: the
		// follow-up leaves its address out. An inbound refusal's remote
		// address is the client the follow-up is about.
		er.RemoteMTA = ev.RemoteHost + " [" + ev.RemoteIP + "]"
	}
	return er
}

// Counter counts distinct values, keeping at most max of them; the
// rest are counted together.
type Counter struct {
	max   int
	n     map[string]int
	Other int `json:"other,omitzero"`
}

// NewCounter returns a counter of at most max distinct values.
func NewCounter(max int) *Counter { return &Counter{max: max, n: map[string]int{}} }

// Add counts v ("" is not counted).
func (c *Counter) Add(v string) {
	if v == "" {
		return
	}
	if _, ok := c.n[v]; !ok && len(c.n) >= c.max {
		c.Other++
		return
	}
	c.n[v]++
}

// Len is the number of distinct values kept.
func (c *Counter) Len() int { return len(c.n) }

// Count is one value and how often it was seen.
type Count struct {
	Value string `json:"value"`
	N     int    `json:"count"`
}

// Top returns the n most frequent values (all with n <= 0).
func (c *Counter) Top(n int) []Count {
	out := make([]Count, 0, len(c.n))
	for v, k := range c.n {
		out = append(out, Count{v, k})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// MarshalJSON writes the 20 most frequent values and how many others.
func (c *Counter) MarshalJSON() ([]byte, error) {
	type shown struct {
		Top    []Count `json:"top"`
		Values int     `json:"distinct"`
		Other  int     `json:"other,omitzero"`
	}
	return json.Marshal(shown{Top: c.Top(20), Values: len(c.n), Other: c.Other})
}

// DetailLines shows the group under its section in text output.
func (g *Group) DetailLines() []string {
	var out []string
	span := ""
	if !g.First.IsZero() {
		span = " from " + g.First.Format(time.DateTime)
		if g.Last.After(g.First) {
			span += " to " + g.Last.Format(time.DateTime)
		}
	}
	out = append(out, fmt.Sprintf("%d %s (%s)%s", g.Count, plural(g.Count, "event", "events"), countMap(g.Actions), span))
	ex := g.Example
	out = append(out, fmt.Sprintf("stage %s, codes %s → reason %s, cause %s, to act: %s", stageList(g.Stages), codeList(g.Codes), g.Reason, g.Cause, ex.ActionBy))
	for _, c := range []struct {
		name string
		c    *Counter
	}{{"remote hosts", g.Hosts}, {"remote IPs", g.IPs}, {"recipient domains", g.Domains}, {"sender domains", g.Senders}, {"listed on", g.Listed}} {
		if l := topList(c.c, 5); l != "" {
			out = append(out, c.name+": "+l)
		}
	}
	out = append(out, "example (line "+fmt.Sprint(ex.LineNumber)+"): "+ex.Line)
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// topList is "a (10), b (3) and 4 more".
func topList(c *Counter, n int) string {
	top := c.Top(n)
	if len(top) == 0 {
		return ""
	}
	parts := make([]string, len(top))
	for i, x := range top {
		parts[i] = fmt.Sprintf("%s (%d)", x.Value, x.N)
	}
	s := strings.Join(parts, ", ")
	// Other counts events whose value was not kept (the counter is full),
	// not distinct values: it is said apart.
	if more := c.Len() - len(top); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	if c.Other > 0 {
		s += fmt.Sprintf(" (and %d events with values not kept)", c.Other)
	}
	return s
}

func countMap(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func stageList(m map[catalog.Stage]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return strings.Join(keys, "/")
}

func codeList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	if len(keys) > 4 {
		keys = append(keys[:4], "…")
	}
	if len(keys) == 0 {
		return "-"
	}
	return strings.Join(keys, ", ")
}
