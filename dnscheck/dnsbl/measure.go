package dnsbl

import "github.com/mxray/mxray/report"

// Measurements are the definite answers of the check: listed or not
// listed, per target and list. Unknown answers (refused, unhealthy list,
// lookup failure) are not measurements; they are findings.
func (r *Report) Measurements() *report.Measurements {
	if r == nil {
		return nil
	}
	m := &report.Measurements{}
	for _, res := range r.Results {
		if res.Status != Listed && res.Status != NotListed {
			continue
		}
		m.Listings = append(m.Listings, report.Listing{Target: res.Target, List: res.Zone, Listed: res.Status == Listed})
	}
	return m
}
