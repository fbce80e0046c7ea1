package kinds

// Preferred is the group/version a built-in kind is served at by
// preference (stable before beta before alpha), e.g. "storage.k8s.io/v1";
// false for a kind that is not built in.
func Preferred(kind string) (GroupVersion, bool) {
	gvs := builtinKinds()[kind]
	if len(gvs) == 0 {
		return "", false
	}
	return gvs[0], true
}
