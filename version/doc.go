// Package version says which charter this is: the release version and commit
// stamped into release builds (go build -ldflags -X, see the Makefile), else
// what the Go toolchain recorded from the module and VCS, and the versions of
// Go, OPA and the Kubernetes libraries built in. `charter version` prints it;
// the webhook and the agent export it as the charter_build_info metric and in
// their startup log line.
package version
