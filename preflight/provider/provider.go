// Package provider names the large mailbox providers whose bulk-sender
// rules `mxray preflight` checks — Gmail, Yahoo (with AOL) and Microsoft's
// consumer mail (Outlook.com, Hotmail, Live) — their own domains, and how
// to tell from a domain's MX host names who receives its mail.
//
// The rules of each provider apply to its consumer mailboxes only:
//   - Google: "A personal Gmail account is an account that ends in
//     @gmail.com or @googlemail.com" (Email sender guidelines,
//     support.google.com/a/answer/81126); Google Workspace domains are hosted
//     by Google (MX under google.com) but governed by their own admins.
//   - Microsoft: the high-volume sender requirements (Tech Community, April
//     2025) cover "Outlook.com, Hotmail.com, Live.com" consumer addresses;
//     those domains are received under olc.protection.outlook.com, while
//     Microsoft 365 tenants are received under mail.protection.outlook.com
//     (Exchange Online Protection).
//   - Yahoo: the sender requirements (senders.yahooinc.com) cover mail to
//     Yahoo and AOL users, received under yahoodns.net — including the ISP
//     domains whose consumer mail Yahoo hosts.
package provider

import "strings"

// ID is a provider's stable id (in JSON).
type ID string

const (
	Gmail     ID = "gmail"
	Yahoo     ID = "yahoo"
	Microsoft ID = "microsoft"
)

// Provider is one mailbox provider with published bulk-sender rules.
type Provider struct {
	ID    ID     `json:"id"`
	Name  string `json:"name"`  // "Yahoo (with AOL)"
	Short string `json:"short"` // a column header: "Yahoo/AOL"
	// Domains are the provider's own consumer domains: a From in one of
	// them, sent from elsewhere, impersonates the provider.
	Domains []string `json:"domains"`
}

// All are the providers preflight checks, in report order.
var All = []Provider{
	{ID: Gmail, Name: "Gmail", Short: "Gmail", Domains: []string{"gmail.com", "googlemail.com"}},
	{ID: Yahoo, Name: "Yahoo (with AOL)", Short: "Yahoo/AOL",
		Domains: []string{"yahoo.com", "ymail.com", "rocketmail.com", "aol.com"}},
	{ID: Microsoft, Name: "Microsoft (Outlook.com, Hotmail, Live)", Short: "Microsoft",
		Domains: []string{"outlook.com", "hotmail.com", "live.com", "msn.com"}},
}

// ByID returns the provider with the id.
func ByID(id ID) (Provider, bool) {
	for _, p := range All {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}

// OwnDomain returns the provider whose own domain domain is (or is under).
func OwnDomain(domain string) (Provider, bool) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	for _, p := range All {
		for _, d := range p.Domains {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				return p, true
			}
		}
	}
	return Provider{}, false
}

// Hosting is who receives a domain's mail, judged from its MX host names.
type Hosting string

const (
	HostGmail           Hosting = "gmail"            // personal Gmail accounts
	HostGoogleWorkspace Hosting = "google-workspace" // other domains received by Google
	HostOutlook         Hosting = "outlook.com"      // Microsoft's consumer mail
	HostMicrosoft365    Hosting = "microsoft-365"    // Exchange Online tenants
	HostYahoo           Hosting = "yahoo"            // Yahoo and AOL
	HostOther           Hosting = "other"
	// HostUnknown: the domain's MX lookup failed or did not run (the
	// deadline, the bound on domains), and its name alone does not say.
	HostUnknown Hosting = "unknown"
)

// Hostings lists every hosting in report order.
var Hostings = []Hosting{HostGmail, HostYahoo, HostOutlook, HostGoogleWorkspace, HostMicrosoft365, HostOther, HostUnknown}

// Governs returns the provider whose consumer rules govern mail to a
// domain with this hosting.
func (h Hosting) Governs() (ID, bool) {
	switch h {
	case HostGmail:
		return Gmail, true
	case HostYahoo:
		return Yahoo, true
	case HostOutlook:
		return Microsoft, true
	}
	return "", false
}

// Describe names the hosting for a person.
func (h Hosting) Describe() string {
	switch h {
	case HostGmail:
		return "Gmail (personal accounts)"
	case HostGoogleWorkspace:
		return "Google Workspace"
	case HostOutlook:
		return "Outlook.com / Hotmail / Live"
	case HostMicrosoft365:
		return "Microsoft 365"
	case HostYahoo:
		return "Yahoo / AOL"
	case HostUnknown:
		return "unknown (not looked up)"
	}
	return "other providers"
}

// ClassifyUnlooked judges a domain whose MX hosts are not known (the
// lookup failed or did not run): by its name when it is a provider's own
// consumer domain, else unknown — never "other providers", which would
// say its mail goes elsewhere.
func ClassifyUnlooked(domain string) Hosting {
	if h := Classify(domain, nil); h != HostOther {
		return h
	}
	return HostUnknown
}

// Classify judges who receives mail for domain from its MX host names (in
// preference order; the first recognised one decides).
func Classify(domain string, mxHosts []string) Hosting {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if domain == "gmail.com" || domain == "googlemail.com" {
		return HostGmail
	}
	for _, h := range mxHosts {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		switch {
		case under(h, "olc.protection.outlook.com"):
			return HostOutlook
		case under(h, "mail.protection.outlook.com"):
			return HostMicrosoft365
		case under(h, "yahoodns.net"):
			return HostYahoo
		case under(h, "gmail-smtp-in.l.google.com"):
			return HostGmail
		case under(h, "google.com"), under(h, "googlemail.com"):
			return HostGoogleWorkspace
		}
	}
	if p, ok := OwnDomain(domain); ok && p.ID == Microsoft {
		return HostOutlook
	}
	return HostOther
}

// under reports whether host is name or a name below it.
func under(host, name string) bool {
	return host == name || strings.HasSuffix(host, "."+name)
}
