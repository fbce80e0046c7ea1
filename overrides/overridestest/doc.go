// Package overridestest gives the tests of other packages signed-override
// fixtures: a charter with one deny article and a council whose private keys
// the test holds, written into a directory (public keys, and cosign key
// files for the CLI), Override documents signed by k of its n members, and
// those documents written as files or made into Override objects.
package overridestest
