// Package bimi checks Brand Indicators for Message Identification (BIMI)
// (draft-brand-indicators-for-message-identification, the BIMI Group's
// specification).
//
// A domain publishes the location of its logo with a TXT record at
// "default._bimi.DOMAIN" (the "default" selector):
//
//	v=BIMI1; l=https://example.com/bimi/logo.svg; a=https://example.com/bimi/vmc.pem
//
// "v=BIMI1" comes first; "l=" is the HTTPS URL of the logo, an SVG in the
// SVG Tiny Portable/Secure profile; "a=" is the HTTPS URL of the authority
// evidence, a Verified Mark Certificate (VMC) or Common Mark Certificate
// (CMC) in PEM form, which large mailbox providers (Gmail, Apple) require
// before they show the logo. "l=" and "a=" both empty is a declination to
// publish. Receivers show a logo only for mail that passes DMARC under a
// policy at enforcement (p=quarantine or p=reject), so BIMI without DMARC
// enforcement has no effect.
//
// The logo and the evidence document are fetched by dnscheck/httpsfetch; the
// DMARC policy is read with dnscheck/dmarc.
package bimi
