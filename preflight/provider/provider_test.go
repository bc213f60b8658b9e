package provider

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		domain string
		mx     []string
		want   Hosting
	}{
		{"gmail.com", []string{"gmail-smtp-in.l.google.com"}, HostGmail},
		{"googlemail.com", nil, HostGmail},
		{"example.com", []string{"aspmx.l.google.com", "alt1.aspmx.l.google.com"}, HostGoogleWorkspace},
		{"example.org", []string{"smtp.google.com."}, HostGoogleWorkspace},
		{"hotmail.co.uk", []string{"eur.olc.protection.outlook.com"}, HostOutlook},
		{"outlook.com", []string{"outlook-com.olc.protection.outlook.com"}, HostOutlook},
		{"live.com", nil, HostOutlook}, // its own domain, even when the MX lookup said nothing
		{"contoso.com", []string{"contoso-com.mail.protection.outlook.com"}, HostMicrosoft365},
		{"aol.com", []string{"mx-aol.mail.gm0.yahoodns.net"}, HostYahoo},
		{"att.net", []string{"mx-att.mail.am0.yahoodns.net"}, HostYahoo},
		{"example.net", []string{"mx1.example.net"}, HostOther},
		{"evil.example", []string{"google.com.evil.example"}, HostOther},
		{"example.com", []string{"mx.example.com", "aspmx.l.google.com"}, HostGoogleWorkspace},
	} {
		if got := Classify(tc.domain, tc.mx); got != tc.want {
			t.Errorf("Classify(%s, %v) = %s, want %s", tc.domain, tc.mx, got, tc.want)
		}
	}
}

func TestGovernsAndOwnDomain(t *testing.T) {
	for h, want := range map[Hosting]ID{HostGmail: Gmail, HostYahoo: Yahoo, HostOutlook: Microsoft} {
		if id, ok := h.Governs(); !ok || id != want {
			t.Errorf("%s governs %s %v, want %s", h, id, ok, want)
		}
	}
	for _, h := range []Hosting{HostGoogleWorkspace, HostMicrosoft365, HostOther, HostUnknown} {
		if _, ok := h.Governs(); ok {
			t.Errorf("%s: business and other hosting is not governed by the consumer rules", h)
		}
	}
	for d, want := range map[string]ID{"gmail.com": Gmail, "mail.yahoo.com": Yahoo, "HOTMAIL.COM.": Microsoft} {
		if p, ok := OwnDomain(d); !ok || p.ID != want {
			t.Errorf("OwnDomain(%s) = %v %v, want %s", d, p.ID, ok, want)
		}
	}
	if _, ok := OwnDomain("notgmail.com"); ok {
		t.Error("notgmail.com is not gmail.com")
	}
}

func TestClassifyUnlooked(t *testing.T) {
	for d, want := range map[string]Hosting{"gmail.com": HostGmail, "hotmail.com": HostOutlook, "example.com": HostUnknown} {
		if got := ClassifyUnlooked(d); got != want {
			t.Errorf("ClassifyUnlooked(%s) = %s, want %s", d, got, want)
		}
	}
}
