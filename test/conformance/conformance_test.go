// Package conformance runs the upstream Gateway API conformance suite, unmodified, against
// tlsgate. It holds no test logic of its own: the suite's entry point parses the documented
// flags (--gateway-class, --conformance-profiles, --report-output, --organization, --project,
// --url, --version, --contact, --mode, ...) and runs every test the profiles select. The
// module pins the suite (go.mod), so `go test -c` here builds exactly the v1.6.1 suite.
package conformance

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
