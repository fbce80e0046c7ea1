// Package certs generates the TLS material the admission webhook needs: a
// self-signed CA and a serving certificate for the webhook's Service
// (NAME.NS.svc, NAME.NS.svc.cluster.local) plus localhost and 127.0.0.1, so
// the same files serve in a cluster, in e2e tests and in the demo.
package certs
