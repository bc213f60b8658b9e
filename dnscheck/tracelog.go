package dnscheck

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/mxray/mxray/report"
)

// TraceLog collects the DNS queries made on behalf of one piece of work (one
// domain's check) when many share a Client: the Client's own trace would mix
// every domain of a run and grow with the run. A Client that finds a
// TraceLog in the context of a lookup records the query there instead, and
// records an answer served from another log's query as a cached entry.
type TraceLog struct {
	// id tells logs apart in the cache without keeping them alive there.
	id      uint64
	mu      sync.Mutex
	queries []report.Query
}

type traceLogKey struct{}

var traceLogIDs atomic.Uint64

// WithTraceLog returns a context whose lookups are recorded in a new TraceLog.
func WithTraceLog(ctx context.Context) (context.Context, *TraceLog) {
	l := &TraceLog{id: traceLogIDs.Add(1)}
	return context.WithValue(ctx, traceLogKey{}, l), l
}

// idOf is the log's id, 0 for none.
func (l *TraceLog) idOf() uint64 {
	if l == nil {
		return 0
	}
	return l.id
}

func traceLogOf(ctx context.Context) *TraceLog {
	l, _ := ctx.Value(traceLogKey{}).(*TraceLog)
	return l
}

func (l *TraceLog) add(q report.Query) {
	l.mu.Lock()
	l.queries = append(l.queries, q)
	l.mu.Unlock()
}

// Queries returns the queries recorded so far, in the order they completed.
func (l *TraceLog) Queries() []report.Query {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]report.Query(nil), l.queries...)
}
