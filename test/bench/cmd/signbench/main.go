// Command signbench measures bundle signing and verification side by side
// with the peers, in one run, and prints a table (make bench-sign):
//
//   - `charter bundle sign` vs `opa build --signing-key` (OPA's .signatures.json)
//     and vs `cosign sign-blob` (the sigstore bundle), on the same bundle;
//   - `charter bundle verify` vs `opa build --verification-key` and
//     `cosign verify-blob`;
//   - bundles.Sign and bundles.Verify in process (no process start, no
//     scrypt key decryption): what a webhook's cold start pays;
//   - a webhook's cold start (process start to a 200 from /readyz) with and
//     without --verify-key: the median of -coldstart-runs interleaved runs
//     each, and the share verification adds (target: at most 5 %).
//
// for the anti-delos bundle and a generated 1,000-article bundle. Every
// other figure is the best wall time of -runs runs; the ratio is charter / peer
// (below 1: charter is faster). The CLIs decrypt their scrypt-protected key
// on every run (charter and cosign alike); opa reads a plain PEM key.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/test/bench"
)

const password = "signbench"

func main() {
	var (
		charterPath = flag.String("charter", "policies/anti-delos.yaml", "the shipped charter to bundle")
		articles    = flag.Int("articles", 1000, "articles in the generated charter")
		charterBin  = flag.String("charter-bin", "bin/charter", "charter binary")
		opaBin      = flag.String("opa-bin", "bin/opa", "opa binary")
		cosignBin   = flag.String("cosign-bin", "bin/cosign", "cosign binary")
		runs        = flag.Int("runs", 3, "runs of each measurement; the best wall time counts")
		coldRuns    = flag.Int("coldstart-runs", 7, "webhook cold starts with and without --verify-key, interleaved; the medians count")
	)
	flag.Parse()
	if err := run(*charterPath, *articles, max(*runs, 1), max(*coldRuns, 1), *charterBin, *opaBin, *cosignBin); err != nil {
		fmt.Fprintln(os.Stderr, "signbench:", err)
		os.Exit(1)
	}
}

type row struct {
	bundle, op, peerName string
	charter, peer        time.Duration
}

func run(charterPath string, articles, runs, coldRuns int, charterBin, opaBin, cosignBin string) error {
	for _, p := range []string{charterPath, charterBin, opaBin, cosignBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run `make build tools` first)", err)
		}
	}
	dir, err := os.MkdirTemp("", "charter-signbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Setenv(keys.PasswordEnv, password)

	pair, err := keys.Generate([]byte(password))
	if err != nil {
		return err
	}
	key, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "cosign"), pair); err != nil {
		return err
	}
	// OPA signs with a plain PEM key of the same kind (ECDSA P-256).
	opaKey, opaPub, err := plainKeyPair(dir)
	if err != nil {
		return err
	}
	signer, err := keys.LoadPrivate(key, func() ([]byte, error) { return []byte(password), nil })
	if err != nil {
		return err
	}
	verifier, err := keys.LoadPublic(pub)
	if err != nil {
		return err
	}

	generated := filepath.Join(dir, "generated.yaml")
	if err := os.WriteFile(generated, bench.Charter(articles), 0o644); err != nil {
		return err
	}
	var rows []row
	var colds []string
	for _, c := range []struct{ name, path string }{
		{filepath.Base(charterPath), charterPath},
		{fmt.Sprintf("generated, %d articles", articles), generated},
	} {
		base := filepath.Join(dir, fmt.Sprintf("b%d", len(rows)))
		tarball, bdir := base+".tar.gz", base+".dir"
		if err := cmd(charterBin, "build", "-o", tarball, c.path); err != nil {
			return err
		}
		if err := cmd(charterBin, "build", "--format", "dir", "-o", bdir, c.path); err != nil {
			return err
		}
		unsigned, err := os.ReadFile(tarball)
		if err != nil {
			return err
		}
		signedTar := base + ".signed.tar.gz"
		opaSigned := base + ".opa.tar.gz"
		cosignBundle := base + ".cosign.json"

		cSign, err := best(runs, func() error {
			if err := os.WriteFile(signedTar, unsigned, 0o644); err != nil {
				return err
			}
			return cmd(charterBin, "bundle", "sign", "--key", key, "--serial", "1", signedTar)
		})
		if err != nil {
			return err
		}
		oSign, err := best(runs, func() error {
			return cmd(opaBin, "build", "--bundle", bdir, "--signing-key", opaKey, "--signing-alg", "ES256", "-o", opaSigned)
		})
		if err != nil {
			return err
		}
		kSign, err := best(runs, func() error {
			return cmd(cosignBin, "sign-blob", "--yes", "--key", key, "--bundle", cosignBundle,
				"--use-signing-config=false", "--tlog-upload=false", signedTar)
		})
		if err != nil {
			return err
		}
		cVerify, err := best(runs, func() error { return cmd(charterBin, "bundle", "verify", "--key", pub, signedTar) })
		if err != nil {
			return err
		}
		oVerify, err := best(runs, func() error {
			return cmd(opaBin, "build", "--bundle", opaSigned, "--verification-key", opaPub, "--signing-alg", "ES256", "-o", base+".opa-verified.tar.gz")
		})
		if err != nil {
			return err
		}
		kVerify, err := best(runs, func() error {
			return cmd(cosignBin, "verify-blob", "--key", pub, "--bundle", cosignBundle, "--insecure-ignore-tlog=true", signedTar)
		})
		if err != nil {
			return err
		}
		files, _, err := bundles.ReadFiles(tarball)
		if err != nil {
			return err
		}
		var signedFiles bundles.Files
		libSign, err := best(runs*10, func() error {
			signedFiles, err = bundles.Sign(files, signer, bundles.Release{Serial: 1})
			return err
		})
		if err != nil {
			return err
		}
		libVerify, err := best(runs*10, func() error {
			_, err := bundles.Verify(signedFiles, verifier)
			return err
		})
		if err != nil {
			return err
		}
		cold, err := measureColdStart(charterBin, dir, signedTar, pub, coldRuns)
		if err != nil {
			return err
		}
		colds = append(colds, fmt.Sprintf("%s: webhook start to /readyz, median of %d: %s without --verify-key, %s with: verification adds %+.1f %% (in process, bundles.Verify is %.1f %% of the cold start); target <= 5 %%",
			c.name, coldRuns, ms(cold.plain), ms(cold.verified), 100*cold.share(), 100*float64(libVerify)/float64(cold.plain)))
		rows = append(rows,
			row{c.name, "webhook cold start (to /readyz)", "same without --verify-key", cold.verified, cold.plain},
			row{c.name, "sign (CLI)", "opa build --signing-key", cSign, oSign},
			row{c.name, "sign (CLI)", "cosign sign-blob", cSign, kSign},
			row{c.name, "verify (CLI)", "opa build --verification-key", cVerify, oVerify},
			row{c.name, "verify (CLI)", "cosign verify-blob", cVerify, kVerify},
			row{c.name, "bundles.Sign in process", "-", libSign, 0},
			row{c.name, "bundles.Verify in process", "-", libVerify, 0},
		)
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "bundle\toperation\tcharter\tpeer\tpeer time\tcharter/peer\n")
	for _, r := range rows {
		ratio, peer := "-", "-"
		if r.peer > 0 {
			peer = ms(r.peer)
			ratio = fmt.Sprintf("%.2f", float64(r.charter)/float64(r.peer))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.bundle, r.op, ms(r.charter), r.peerName, peer, ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Println()
	for _, c := range colds {
		fmt.Println(c)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// best runs f n times and returns the shortest wall time.
func best(n int, f func() error) (time.Duration, error) {
	var min time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		if d := time.Since(start); i == 0 || d < min {
			min = d
		}
	}
	return min, nil
}

func cmd(name string, args ...string) error {
	c := exec.Command(name, args...)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return nil
}

func plainKeyPair(dir string) (keyPath, pubPath string, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return "", "", err
	}
	keyPath, pubPath = filepath.Join(dir, "opa.key"), filepath.Join(dir, "opa.pub")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return keyPath, pubPath, os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
}
