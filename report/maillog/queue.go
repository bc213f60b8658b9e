package maillog

// What is remembered between lines, per queue id: the message's sender
// (logged once, on its own line, before the delivery lines) and its
// deferred recipients (until they are delivered, or the message expires and
// each becomes an expired event with its last error). Both are bounded:
// the oldest queue id is forgotten first, and deferred recipients beyond
// the bound are not remembered (counted in Stats.Forgotten).

import "sort"

type queueState struct {
	max, maxDeferred int
	m                map[string]*queueEntry
	ring             []ringSlot // insertion order, for forgetting the oldest
	next             int
	gen              uint64
	deferredCount    int
	forgotten        int64
}

type ringSlot struct {
	key string
	gen uint64
}

type queueEntry struct {
	gen      uint64
	sender   string
	deferred map[string]deferredRcpt
}

type deferredRcpt struct {
	rcpt string
	p    *parsed
	line string
}

func newQueueState(max, maxDeferred int) *queueState {
	return &queueState{max: max, maxDeferred: maxDeferred, m: map[string]*queueEntry{}, ring: make([]ringSlot, max)}
}

func queueKey(mta, qid string) string { return mta + " " + qid }

// entry returns the queue id's entry, creating it (and forgetting the
// oldest when full).
func (q *queueState) entry(mta, qid string) *queueEntry {
	k := queueKey(mta, qid)
	if e, ok := q.m[k]; ok {
		return e
	}
	if old := q.ring[q.next]; old.key != "" {
		if e, ok := q.m[old.key]; ok && e.gen == old.gen {
			q.drop(old.key, e)
		}
	}
	q.gen++
	e := &queueEntry{gen: q.gen}
	q.m[k] = e
	q.ring[q.next] = ringSlot{k, q.gen}
	q.next = (q.next + 1) % len(q.ring)
	return e
}

func (q *queueState) drop(k string, e *queueEntry) {
	q.deferredCount -= len(e.deferred)
	delete(q.m, k)
}

func (q *queueState) setSender(mta, qid, sender string) {
	if qid == "" {
		return
	}
	q.entry(mta, qid).sender = sender
}

func (q *queueState) sender(mta, qid string) string {
	if e, ok := q.m[queueKey(mta, qid)]; ok {
		return e.sender
	}
	return ""
}

func (q *queueState) forget(mta, qid string) {
	k := queueKey(mta, qid)
	if e, ok := q.m[k]; ok {
		q.drop(k, e)
	}
}

// deferred remembers the last deferral of a recipient.
func (q *queueState) deferred(mta, qid, rcpt string, p *parsed, line []byte) {
	if qid == "" || rcpt == "" {
		return
	}
	e := q.entry(mta, qid)
	if e.deferred == nil {
		e.deferred = map[string]deferredRcpt{}
	}
	if _, ok := e.deferred[rcpt]; !ok {
		if q.deferredCount >= q.maxDeferred {
			q.forgotten++
			return
		}
		q.deferredCount++
	}
	cp := *p
	cp.recipients = nil
	e.deferred[rcpt] = deferredRcpt{rcpt: rcpt, p: &cp, line: string(line[:min(len(line), maxLine)])}
}

// delivered forgets a recipient delivered after all.
func (q *queueState) delivered(mta, qid, rcpt string) {
	if e, ok := q.m[queueKey(mta, qid)]; ok && e.deferred != nil {
		if _, ok := e.deferred[rcpt]; ok {
			delete(e.deferred, rcpt)
			q.deferredCount--
		}
	}
}

// takeDeferred returns and forgets the deferred recipients of a message.
func (q *queueState) takeDeferred(mta, qid string) []deferredRcpt {
	e, ok := q.m[queueKey(mta, qid)]
	if !ok || len(e.deferred) == 0 {
		return nil
	}
	out := make([]deferredRcpt, 0, len(e.deferred))
	for _, d := range e.deferred {
		out = append(out, d)
	}
	q.deferredCount -= len(e.deferred)
	e.deferred = nil
	sortDeferred(out)
	return out
}

func sortDeferred(ds []deferredRcpt) {
	sort.Slice(ds, func(i, j int) bool { return ds[i].rcpt < ds[j].rcpt })
}
