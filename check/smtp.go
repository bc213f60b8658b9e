package check

// SMTPOptions configures the smtp part of the domain check. (Filled in by the issue that builds the smtp part.)
type SMTPOptions struct{}
