// Package agent enforces the runtime articles of a charter in the kernel.
//
// It loads the eBPF programs of bpf/ (exec, connect and open hooks, with BPF
// LSM variants used where the kernel allows them), turns runtime rules into
// map entries, scopes them to configured cgroups, and reads the decisions the
// kernel made from a ring buffer into metrics and an audit log. Rule, scope
// and mode changes update the maps in place; programs stay attached.
package agent
