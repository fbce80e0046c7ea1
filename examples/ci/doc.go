// Package ci holds charter's CI examples (github/charter.yml for GitHub
// Actions, gitlab/.gitlab-ci.yml for GitLab CI) and the test that runs them:
// it parses each example, runs every shell command of every job as a script
// in a fresh workspace with the charter CLI built from this checkout and the
// pinned conftest on PATH, and checks what each job would report, so a
// renamed command or flag breaks the test instead of a user's pipeline.
package ci
