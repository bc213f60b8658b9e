package spf

import "github.com/mxray/mxray/report"

// Measurements gives monitoring the lookup count of the record tree
// (RFC 7208 §4.6.4), only when the whole tree was fetched: with a record
// that could not be looked up the count is a lower bound, not a measurement.
func (c *Check) Measurements() *report.Measurements {
	if c == nil || c.Status != "ok" || c.Tree == nil || incomplete(c.Tree) {
		return nil
	}
	return &report.Measurements{SPF: &report.SPFLookups{Domain: c.Domain, Lookups: c.Lookups, VoidLookups: c.VoidLookups}}
}

// incomplete is true when a record of the tree was not fetched (lookup
// failed, or beyond the walk's bounds).
func incomplete(n *Node) bool {
	if n.Status == "unknown" || n.Status == "skipped" {
		return true
	}
	for _, ch := range n.Children {
		if incomplete(ch) {
			return true
		}
	}
	return false
}
