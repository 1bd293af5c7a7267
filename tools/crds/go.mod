// The official CustomResourceDefinitions of the projects paved writes objects for, pinned here
// and fetched with `go mod download` into the Go module cache (go.sum checks their hashes), the
// way Go operators feed envtest. This module has no code: do not `go mod tidy` it (tidy would drop
// requirements that no package imports). See src/localcluster/third-party-crds.ts for which
// files of each module are installed.
module paved.dev/tools/crds

go 1.26.0

require (
	github.com/argoproj/argo-cd/v3 v3.5.1
	github.com/prometheus-operator/prometheus-operator v0.93.0
	sigs.k8s.io/gateway-api v1.6.1
)
