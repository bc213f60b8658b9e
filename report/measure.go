package report

import (
	"slices"
	"time"
)

// Measurements are the numbers of a section that monitoring reads: the
// SPF lookup count, the certificates' expiry, blocklist listings, whether
// the mail hosts answered. Findings judge; measurements are what the
// Nagios perfdata and the Prometheus metrics are made of, so the renderers
// need not know the typed detail of each check (report imports nothing of
// mxray: the packages that own the detail implement Measurer).
//
// Only what was observed is recorded: a lookup that failed leaves its
// measurement out rather than recording a zero.
type Measurements struct {
	SPF          *SPFLookups         `json:"spf,omitempty"`
	Certificates []CertificateExpiry `json:"certificates,omitempty"`
	Listings     []Listing           `json:"dnsbl,omitempty"`
	SMTP         []Reachability      `json:"smtp,omitempty"`
}

// SPFLookups is the DNS lookup count of a domain's SPF record tree
// (RFC 7208 §4.6.4: at most 10, and at most 2 void lookups).
type SPFLookups struct {
	Domain      string `json:"domain"`
	Lookups     int    `json:"dns_lookups"`
	VoidLookups int    `json:"void_dns_lookups"`
}

// CertificateExpiry is when the certificate a mail server presented (the
// leaf of the chain) stops being valid.
type CertificateExpiry struct {
	Host     string    `json:"host"`
	Address  string    `json:"address"`
	Port     int       `json:"port"`
	NotAfter time.Time `json:"not_after"`
}

// Listing is one definite blocklist answer: a target listed or not listed
// on a list. Unknown answers are not measurements.
type Listing struct {
	Target string `json:"target"`
	List   string `json:"list"`
	Listed bool   `json:"listed"`
}

// Reachability says whether a TCP connection to a mail server's port could
// be opened. Servers not dialed (special-use addresses, a canceled run) are
// left out.
type Reachability struct {
	Host      string `json:"host"`
	Address   string `json:"address"`
	Port      int    `json:"port"`
	Reachable bool   `json:"reachable"`
}

// Measurer is implemented by a section's typed detail that has numbers to
// contribute (the SPF tree, the blocklist report, the SMTP sessions).
type Measurer interface {
	Measurements() *Measurements
}

// empty is true when there is nothing in m.
func (m *Measurements) empty() bool {
	return m == nil || m.SPF == nil && len(m.Certificates) == 0 && len(m.Listings) == 0 && len(m.SMTP) == 0
}

// measure fills s.Measurements from the detail, unless the part set them.
func (s *Section) measure() {
	if s.Measurements != nil {
		return
	}
	if m, ok := s.Detail.(Measurer); ok {
		if got := m.Measurements(); !got.empty() {
			s.Measurements = got
		}
	}
}

// Measurements merges the measurements of every section, in section order.
// The SPF count is the first one found (a report has one SPF section).
func (r *Report) Measurements() Measurements {
	var all Measurements
	for i := range r.Sections {
		s := &r.Sections[i]
		s.measure()
		m := s.Measurements
		if m == nil {
			continue
		}
		if all.SPF == nil {
			all.SPF = m.SPF
		}
		all.Certificates = append(all.Certificates, m.Certificates...)
		all.Listings = append(all.Listings, m.Listings...)
		all.SMTP = append(all.SMTP, m.SMTP...)
	}
	return all
}

// EarliestCertificate is the certificate that expires first, if any was seen.
func (m Measurements) EarliestCertificate() (CertificateExpiry, bool) {
	if len(m.Certificates) == 0 {
		return CertificateExpiry{}, false
	}
	return slices.MinFunc(m.Certificates, func(a, b CertificateExpiry) int { return a.NotAfter.Compare(b.NotAfter) }), true
}

// ListedCount is the number of (target, list) pairs listed.
func (m Measurements) ListedCount() int {
	n := 0
	for _, l := range m.Listings {
		if l.Listed {
			n++
		}
	}
	return n
}
