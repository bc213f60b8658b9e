package recipients

// Likely typos of recipient domains: a domain one edit (two for long names)
// away from a provider's own domain or from a domain much more common in the
// same list — gmial.com for gmail.com, yahooo.com, hotmail.con — is most
// likely a mistyped address, and mail to it bounces or goes to a typo
// squatter. Edits are those of the optimal string alignment distance
// (insertion, deletion, substitution, transposition of neighbours): the
// mistakes of typing.

import (
	"sort"

	"github.com/mxray/mxray/dnscheck/dmarc"
	"github.com/mxray/mxray/preflight/provider"
)

// Typo is a domain that is likely a mistyped other domain.
type Typo struct {
	Domain     string `json:"domain"`
	Recipients int    `json:"recipients"`
	Likely     string `json:"likely"` // the domain meant
	Distance   int    `json:"distance"`
	Status     string `json:"status,omitempty"` // the domain's own MX status, when looked up
}

// typoTargets is how many of the list's most common domains are compared.
const typoTargets = 50

// typoRatio: a list domain is a target for one this many times rarer.
const typoRatio = 10

// wellKnown are mailbox domains that are never taken for typos even when
// they are one edit from another (mail.com and gmail.com, gmx.com and
// gmx.de): large mailbox providers of their own.
var wellKnown = map[string]bool{
	"mail.com": true, "gmx.com": true, "gmx.net": true, "gmx.de": true, "gmx.at": true, "web.de": true,
	"icloud.com": true, "me.com": true, "mac.com": true, "aim.com": true, "msn.com": true, "live.com": true,
	"proton.me": true, "protonmail.com": true, "zoho.com": true, "yandex.ru": true, "yandex.com": true,
	"mail.ru": true, "comcast.net": true, "att.net": true, "verizon.net": true, "free.fr": true,
	"orange.fr": true, "laposte.net": true, "libero.it": true, "t-online.de": true, "qq.com": true,
	"163.com": true, "126.com": true, "naver.com": true, "ymail.com": true, "aol.com": true,
}

// Typos finds likely typos among the list's domains; status, when given,
// has each domain's MX status for the evidence.
func Typos(domains map[string]int, status map[string]string) []Typo {
	targets := typoTargetList(domains)
	var out []Typo
	for d, n := range domains {
		if wellKnown[d] || isProviderDomain(d) {
			continue
		}
		if t, dist, ok := closest(d, n, targets, domains); ok {
			out = append(out, Typo{Domain: d, Recipients: n, Likely: t, Distance: dist, Status: status[d]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Recipients != out[j].Recipients {
			return out[i].Recipients > out[j].Recipients
		}
		return out[i].Domain < out[j].Domain
	})
	return out
}

// typoTargetList: the providers' own domains and the list's most common ones.
func typoTargetList(domains map[string]int) []string {
	var ts []string
	seen := map[string]bool{}
	for _, p := range provider.All {
		for _, d := range p.Domains {
			ts, seen[d] = append(ts, d), true
		}
	}
	common := make([]string, 0, len(domains))
	for d := range domains {
		common = append(common, d)
	}
	sort.Slice(common, func(i, j int) bool {
		if domains[common[i]] != domains[common[j]] {
			return domains[common[i]] > domains[common[j]]
		}
		return common[i] < common[j]
	})
	for _, d := range common[:min(len(common), typoTargets)] {
		if !seen[d] {
			ts = append(ts, d)
		}
	}
	return ts
}

func isProviderDomain(d string) bool {
	p, ok := provider.OwnDomain(d)
	if !ok {
		return false
	}
	for _, own := range p.Domains {
		if own == d {
			return true
		}
	}
	return false
}

// closest finds the target d most likely is a typo of.
func closest(d string, n int, targets []string, counts map[string]int) (string, int, bool) {
	best, bestDist := "", 3
	for _, t := range targets {
		if t == d || abs(len(t)-len(d)) > 2 {
			continue
		}
		maxDist := 1
		if len(t) >= 12 {
			maxDist = 2
		}
		dist := osaDistance(d, t, maxDist)
		if dist > maxDist || dist >= bestDist {
			continue
		}
		if !isProviderDomain(t) && counts[t] < typoRatio*n {
			continue // not much more common than d: two real domains
		}
		if dmarc.OrgDomain7489(d) == dmarc.OrgDomain7489(t) {
			continue // two names in one organisation's domain
		}
		best, bestDist = t, dist
	}
	return best, bestDist, best != ""
}

// osaDistance is the optimal string alignment distance of a and b, or
// limit+1 as soon as it must exceed limit.
func osaDistance(a, b string, limit int) int {
	if abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
