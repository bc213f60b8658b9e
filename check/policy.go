package check

// PolicyOptions configures the policy part of the domain check. (Filled in by the issue that builds the policy part.)
type PolicyOptions struct{}
