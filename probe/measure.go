package probe

import (
	"net"

	"github.com/mxray/mxray/report"
)

// Measurements are what the sessions say to monitoring: whether each
// server's port could be connected to, and when the certificate it
// presented expires.
func (d *Detail) Measurements() *report.Measurements {
	if d == nil {
		return nil
	}
	m := &report.Measurements{}
	for _, s := range d.Sessions {
		if r, ok := s.reachability(); ok {
			m.SMTP = append(m.SMTP, r)
		}
		if c, ok := s.certificateExpiry(); ok {
			m.Certificates = append(m.Certificates, c)
		}
	}
	return m
}

// reachability is whether the TCP connection opened; false when the
// session never dialed (an address not probed) or was canceled, which
// observed nothing.
func (s *Session) reachability() (report.Reachability, bool) {
	if s == nil || len(s.Steps) == 0 || s.Status == StatusCanceled {
		return report.Reachability{}, false
	}
	return report.Reachability{Host: s.Host, Address: s.address(), Port: s.Port, Reachable: !s.Status.ConnectFailed()}, true
}

// certificateExpiry is the NotAfter of the leaf certificate presented.
func (s *Session) certificateExpiry() (report.CertificateExpiry, bool) {
	if s == nil || s.TLS == nil || len(s.TLS.Chain) == 0 {
		return report.CertificateExpiry{}, false
	}
	return report.CertificateExpiry{Host: s.Host, Address: s.address(), Port: s.Port, NotAfter: s.TLS.Chain[0].NotAfter}, true
}

// address is the IP address (or name) dialed, without the port.
func (s *Session) address() string {
	if h, _, err := net.SplitHostPort(s.Addr); err == nil {
		return h
	}
	return s.Addr
}
