package doctor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/doctor"
)

// BenchmarkDoctorHealthyCluster runs every check against the healthy test
// cluster of TestHealthyCluster, connection included, as one ksbuilder
// doctor does (issue 12's target: under 2 s). make bench runs it.
func BenchmarkDoctorHealthyCluster(b *testing.B) {
	opts := baseOptions(b)
	healthy(b)
	reg := filepath.Join(b.TempDir(), "config.json")
	if err := os.WriteFile(reg, []byte(`{"auths":{"registry.example.com":{"auth":"eDp5"}}}`), 0o600); err != nil {
		b.Fatal(err)
	}
	opts.RegistryConfig = reg
	opts.KubeVersion = ">=1.19.0-0"
	opts.KSVersion = ">=4.1.0-0"
	for b.Loop() {
		for _, c := range doctor.Run(context.Background(), opts) {
			if c.Status != doctor.OK {
				b.Fatalf("%s: %s: %s", c.ID, c.Status, c.Message)
			}
		}
	}
}
