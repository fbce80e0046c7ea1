// Package fingerprint summarises files by what changes when they are
// rewritten, so a poller can tell cheaply whether to read them again: the
// bundle reloader for charters and bundles, the webhook for its TLS key pair.
package fingerprint
