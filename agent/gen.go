package agent

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -go-package agent -type event -type path_key -type net_key -type agent_config -type rule_ref -type ident -type rule_policy -type exempt_key charter ../bpf/charter.c -- -I../bpf
