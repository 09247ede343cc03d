package verify

import (
	"testing"

	"k8s.io/client-go/rest"
)

// The gateway's TLS: the kubeconfig's CA only for its own host, a CA file
// or no verification when asked; the credentials always carried over.
func TestGatewayConfig(t *testing.T) {
	kube := &rest.Config{Host: "https://k8s.example.com:6443", BearerToken: "tok",
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte("kube CA"), ServerName: "kubernetes"}}
	for _, c := range []struct {
		name     string
		g        Gateway
		host     string
		ca       string
		caFile   string
		insecure bool
	}{
		{"same host", Gateway{URL: "https://k8s.example.com:30443/"}, "https://k8s.example.com:30443", "kube CA", "", false},
		{"other host", Gateway{URL: "https://ks.example.com"}, "https://ks.example.com", "", "", false},
		{"CA file", Gateway{URL: "https://k8s.example.com", CAFile: "ca.pem"}, "https://k8s.example.com", "", "ca.pem", false},
		{"insecure", Gateway{URL: "http://k8s.example.com:30880", Insecure: true}, "http://k8s.example.com:30880", "", "", true},
	} {
		cfg, err := GatewayConfig(kube, c.g)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if cfg.Host != c.host || string(cfg.CAData) != c.ca || cfg.CAFile != c.caFile || cfg.Insecure != c.insecure || cfg.BearerToken != "tok" {
			t.Errorf("%s: got host %s, CA %q, CA file %q, insecure %v, token %q", c.name, cfg.Host, cfg.CAData, cfg.CAFile, cfg.Insecure, cfg.BearerToken)
		}
	}
	if m := gatewayMember(&rest.Config{Host: "https://ks.example.com"}, "member1"); m.Host != "https://ks.example.com/clusters/member1" {
		t.Errorf("member config host %s", m.Host)
	}
	for _, bad := range []string{"ks.example.com", "ftp://ks.example.com", "https://ks.example.com/console", "https://", "https://u:p@ks.example.com"} {
		if _, err := GatewayConfig(kube, Gateway{URL: bad}); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
