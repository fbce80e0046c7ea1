package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Token is the static bearer token of the admin user (group system:masters).
const Token = "charter-e2e-admin-token"

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	Dir      string // working directory: data, certificates, logs
	URL      string // https://127.0.0.1:PORT
	AuditLog string // the apiserver's audit log (JSON lines), Metadata level

	caFile string
	procs  []*proc
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Binaries returns the paths of etcd and kube-apiserver under root/bin, and
// an error naming what is missing (kubectl, used by the tests, included).
func Binaries(root string) (etcd, apiserver string, err error) {
	etcd, apiserver = filepath.Join(root, "bin", "etcd"), filepath.Join(root, "bin", "kube-apiserver")
	for _, p := range []string{etcd, apiserver, filepath.Join(root, "bin", "kubectl")} {
		if _, err := os.Stat(p); err != nil {
			return etcd, apiserver, fmt.Errorf("%s is missing (build it with `make e2e-tools`)", p)
		}
	}
	return etcd, apiserver, nil
}

// Build runs `make e2e-tools` in root, building whatever is missing, and
// returns its output on failure.
func Build(root string) error {
	cmd := exec.Command("make", "-C", root, "--no-print-directory", "e2e-tools")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("make e2e-tools: %w\n%s", err, out)
	}
	return nil
}

// Root finds the repository root: the nearest parent of the working
// directory whose go.mod is the charter module.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/charter-dev/charter\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the charter repository")
		}
		dir = parent
	}
}

// Start starts etcd and kube-apiserver from root/bin with their state in dir,
// and waits until the apiserver is ready. Stop ends them.
func Start(ctx context.Context, root, dir string) (*Cluster, error) {
	etcdBin, apiBin, err := Binaries(root)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, AuditLog: filepath.Join(dir, "audit.log")}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := c.start(etcdBin, "etcd.log",
		"--name", "e2e", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "e2e="+peerURL, "--unsafe-no-fsync", "--log-level", "warn",
	); err != nil {
		return nil, err
	}

	if err := c.writeConfig(); err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "apiserver")
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	if err := c.start(apiBin, "kube-apiserver.log",
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		// The loopback address cannot be a kubernetes Service endpoint; nothing here needs one.
		"--endpoint-reconciler-type", "none",
		"--secure-port", fmt.Sprint(ports[2]),
		"--cert-dir", certDir,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(dir, "sa.key"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.96.0.0/24",
		// No controller-manager creates the default ServiceAccount.
		"--disable-admission-plugins", "ServiceAccount",
		// As on real clusters: privileged pods are for admission policy to refuse.
		"--allow-privileged=true",
		"--audit-policy-file", filepath.Join(dir, "audit-policy.yaml"),
		"--audit-log-path", c.AuditLog, "--audit-log-mode", "blocking",
		"-v", "1",
	); err != nil {
		return nil, err
	}
	c.caFile = filepath.Join(certDir, "apiserver.crt")
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

func (c *Cluster) writeConfig() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	// SEC 1 ("EC PRIVATE KEY"): the apiserver reads the public half from it too.
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		"tokens.csv": []byte(Token + `,admin,admin-uid,"system:masters"` + "\n"),
		// Metadata for the objects the tests create: enough to see the
		// webhook's audit annotations.
		"audit-policy.yaml": []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n" +
			"- level: Metadata\n  resources:\n  - {group: \"\", resources: [pods]}\n  - {group: apps, resources: [deployments]}\n- level: None\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) start(bin, logName string, args ...string) error {
	logf, err := os.Create(filepath.Join(c.Dir, logName))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	c.procs = append(c.procs, p)
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return nil
}

// waitReady polls /readyz until it answers ok or a process exits.
func (c *Cluster) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the serving cert appears only once it starts
	}}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for _, p := range c.procs {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited: %s\n%s", filepath.Base(p.cmd.Path), p.cmd.ProcessState, c.Logs())
			default:
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+Token)
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kube-apiserver not ready after 2 minutes\n%s", c.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// RestConfig is an admin client configuration that verifies the apiserver's
// certificate.
func (c *Cluster) RestConfig() *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: c.caFile},
		QPS:             200, Burst: 400,
	}
}

// WriteKubeconfig writes a kubeconfig for the admin user to path.
func (c *Cluster) WriteKubeconfig(path string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthority: c.caFile}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: Token}
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "admin"}
	cfg.CurrentContext = "e2e"
	return clientcmd.WriteToFile(*cfg, path)
}

// Logs returns the tail of each process log, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, name := range []string{"etcd.log", "kube-apiserver.log"} {
		data, err := os.ReadFile(filepath.Join(c.Dir, name))
		if err != nil {
			continue
		}
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s (tail)\n%s\n", name, data)
	}
	return b.String()
}

// Stop terminates the apiserver, then etcd, and waits for both.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	c.procs = nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
