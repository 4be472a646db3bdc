// CoreDNS v1.12.2, the server the conformance base manifest runs as
// registry.k8s.io/coredns/coredns:v1.12.2 (Deployment gateway-conformance-infra/coredns, used
// by the UDPRoute tests; for the other profiles its pod only has to be Ready).
//
// This is upstream's own main (coredns.go: coremain.Run) with the plugin set chosen at compile
// time, the way CoreDNS documents for custom builds: instead of core/plugin, which links all
// ~60 plugins (cloud DNS providers, tracing, kubernetes: about 1,300 packages to compile), it
// links only the plugins the base manifest's Corefile uses. The plugins' order in the chain
// still comes from upstream's dnsserver.Directives. A Corefile naming any other plugin fails
// at start-up with CoreDNS's own "unknown directive" error, so a changed manifest cannot pass
// silently with a server that ignores part of its configuration.
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() {
	coremain.Run()
}
