// Package kernel holds the eBPF tests of the runtime agent: they load the
// real programs into the running kernel, as root, and run processes in a
// cgroup v2 child to check what the kernel lets them do. They skip, naming
// the missing feature, only when not root or when the kernel lacks one.
package kernel
