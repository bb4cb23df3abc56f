// Package scale holds the tests of the scale-out examples beside it: the
// Kubernetes Indexed Job, the GitHub Actions matrix workflow, the one-host
// xargs script and the container image. It is a module of its own, so
// that the Kubernetes types its tests decode the manifests with are no
// dependency of portscan itself; it has no code but these tests.
package scale
