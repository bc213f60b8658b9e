package check

// DKIMOptions configures the dkim part of the domain check. (Filled in by the DMARC/DKIM work.)
type DKIMOptions struct{}
