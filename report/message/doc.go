// Package message reads what users paste into `mxray explain` and finds the
// SMTP replies in it: a reply line, a multi-line reply, an MTA log line, an
// NDR, or a whole message — a bounce, a delivery status notification, a
// feedback report or an auto-reply. "Message" as in the delivery status
// reports of RFC 3464 and RFC 6522: each recipient of a report becomes one
// reply explained by the reply catalog (report/catalog).
//
// Standards: RFC 5322 and the MIME RFCs 2045-2047 (mime.go, a bounded and
// tolerant reader), RFC 3464 and RFC 6533 (dsn.go), RFC 5965 ARF and RFC 3834
// auto-replies (bounce_auto.go), RFC 5321 §4.2 and RFC 3463 for the replies
// found in text (pasted.go). bounce.go reads non-standard bounce bodies and
// classify.go decides each recipient's reason in a fixed order: the
// notice's structure, the reply's words (the catalog), the stage and
// status, expiry. Mail logs are read by report/maillog, which uses the same
// classification (ExplainReply).
//
// Every input is hostile until proven otherwise: sizes, header blocks,
// nesting depth and part counts are capped (Limits), and the work is linear
// in the size of the input.
package message
