// Package atomicfile replaces a file so that no reader, and no crash, sees
// half of it: the bundle state directory, signed bundles and signatures the
// CLI writes, and the webhook's certificates all go through Write.
package atomicfile
