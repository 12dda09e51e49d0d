package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"weft.dev/bench/internal/mesh"
)

// trigger changes the trigger service's v2 weight at the source of truth of the server under test.
type trigger func(v2 int) error

// httpTrigger POSTs to the go-control-plane peer's in-process endpoint.
func httpTrigger(url string) trigger {
	client := &http.Client{Timeout: 30 * time.Second}
	return func(v2 int) error {
		resp, err := client.Post(fmt.Sprintf("%s?v2=%d", url, v2), "text/plain", nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			body, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("trigger: %s: %s", resp.Status, body)
		}
		return nil
	}
}

// kubeTrigger PATCHes the trigger service's VirtualService through the API server (a JSON merge patch of
// spec.http, the same list the mesh generator wrote, with the new weights).
func kubeTrigger(kubeconfig, apiVersion string, s mesh.Service) (trigger, error) {
	server, client, err := kubeClient(kubeconfig)
	if err != nil {
		return nil, err
	}
	url := server + mesh.ResourcePath(apiVersion, "virtualservices", s)
	return func(v2 int) error {
		body, _ := json.Marshal(map[string]any{"spec": map[string]any{"http": mesh.HTTPRoutes(s, v2)}})
		req, err := http.NewRequest(http.MethodPatch, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/merge-patch+json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			msg, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("PATCH %s: %s: %s", url, resp.Status, msg)
		}
		return nil
	}, nil
}

// kubeClient reads a kubeconfig with embedded certificates (as hack/cluster writes them): the first cluster
// and the first user.
func kubeClient(path string) (string, *http.Client, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `yaml:"server"`
				CA     string `yaml:"certificate-authority-data"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			User struct {
				Cert string `yaml:"client-certificate-data"`
				Key  string `yaml:"client-key-data"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return "", nil, err
	}
	if len(kc.Clusters) == 0 || len(kc.Users) == 0 {
		return "", nil, fmt.Errorf("%s: no cluster or user", path)
	}
	decode := func(s string) []byte { b, _ := base64.StdEncoding.DecodeString(s); return b }
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(decode(kc.Clusters[0].Cluster.CA)) {
		return "", nil, fmt.Errorf("%s: no certificate-authority-data", path)
	}
	cert, err := tls.X509KeyPair(decode(kc.Users[0].User.Cert), decode(kc.Users[0].User.Key))
	if err != nil {
		return "", nil, fmt.Errorf("%s: client certificate: %w", path, err)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}
	return kc.Clusters[0].Cluster.Server, &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}
