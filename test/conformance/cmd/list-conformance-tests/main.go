// list-conformance-tests prints, as one JSON document, every test of the pinned conformance
// suite with its features, whether it is provisional or parallel, and the profiles it counts
// for (core or extended), read from the suite's own exported values.
//
// scripts/conformance.mjs needs it to count passed/failed/skipped per profile from the test
// log: in v1.6.1 the report is written before the parallel tests run (upstream bug #5142),
// so the report's own counts miss their failures. The rule it applies is the suite's: a test
// belongs to a profile when the profile (core or extended) has every feature the test needs,
// and it is an extended test there when any of those features is not core.
package main

import (
	"encoding/json"
	"os"

	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
)

type testInfo struct {
	Name        string            `json:"name"`
	Features    []string          `json:"features"`
	Provisional bool              `json:"provisional"`
	Parallel    bool              `json:"parallel"`
	Profiles    map[string]string `json:"profiles"` // profile name -> "core" | "extended"
}

var profiles = []suite.ConformanceProfile{
	suite.GatewayHTTPConformanceProfile,
	suite.GatewayTLSConformanceProfile,
	suite.GatewayTCPConformanceProfile,
	suite.GatewayUDPConformanceProfile,
	suite.GatewayGRPCConformanceProfile,
	suite.MeshHTTPConformanceProfile,
	suite.MeshGRPCConformanceProfile,
}

func levelIn(profile suite.ConformanceProfile, needed []features.FeatureName) string {
	level := "core"
	for _, feature := range needed {
		switch {
		case profile.CoreFeatures.Has(feature):
		case profile.ExtendedFeatures.Has(feature):
			level = "extended"
		default:
			return ""
		}
	}
	return level
}

func main() {
	out := []testInfo{}
	for _, test := range tests.ConformanceTests {
		info := testInfo{Name: test.ShortName, Features: []string{}, Provisional: test.Provisional, Parallel: test.Parallel, Profiles: map[string]string{}}
		for _, feature := range test.Features {
			info.Features = append(info.Features, string(feature))
		}
		for _, profile := range profiles {
			if level := levelIn(profile, test.Features); level != "" {
				info.Profiles[string(profile.Name)] = level
			}
		}
		out = append(out, info)
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		os.Stderr.WriteString("list-conformance-tests: " + err.Error() + "\n")
		os.Exit(1)
	}
}
