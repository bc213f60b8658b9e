package check

// SPFOptions configures the spf part of the domain check. (Filled in by the issue that builds the spf part.)
type SPFOptions struct{}
