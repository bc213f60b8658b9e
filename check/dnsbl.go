package check

// DNSBLOptions configures the dnsbl part of the domain check. (Filled in by the issue that builds the dnsbl part.)
type DNSBLOptions struct{}
