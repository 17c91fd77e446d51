package natsbus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// TestConnectWithCredentialsAndTLS connects as the nats section says to a real nats-server that requires
// TLS with client certificates and authenticates nkey and user/password users, and lays out the streams.
func TestConnectWithCredentialsAndTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir)
	srvCert, srvKey := ca.issue(t, "server", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue(t, "client", x509.ExtKeyUsageClientAuth)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	seedFile := filepath.Join(dir, "zonewatch.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey, CaFile: ca.file, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: filepath.Join(dir, "js"), NoSigs: true, TLS: true, TLSVerify: true, TLSConfig: tlsCfg, TLSTimeout: 5,
		Nkeys: []*server.NkeyUser{{Nkey: pub}}, Users: []*server.User{{Username: "zonewatch", Password: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	url := fmt.Sprintf("tls://%s", ns.Addr().(*net.TCPAddr).String())
	tlsYAML := fmt.Sprintf("{ca: %s, cert: %s, key: %s}", ca.file, cliCert, cliKey)

	for _, tc := range []struct {
		name, auth string
		env        map[string]string
		err        string
	}{
		{name: "nkey", auth: "nkey_seed_file: " + seedFile + "\n  tls: " + tlsYAML},
		{name: "password from the environment", auth: "user: zonewatch\n  tls: " + tlsYAML, env: map[string]string{"ZONEWATCH_NATS_PASSWORD": "s3cret"}},
		{name: "wrong password", auth: "user: zonewatch\n  password: guess\n  tls: " + tlsYAML, err: "authorization violation"},
		{name: "no client certificate", auth: "nkey_seed_file: " + seedFile + "\n  tls: {ca: " + ca.file + "}", err: "connect to nats"},
		{name: "unreadable seed", auth: "nkey_seed_file: " + filepath.Join(dir, "missing.nk") + "\n  tls: " + tlsYAML, err: "nkey seed file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "zonewatch.yaml")
			body := fmt.Sprintf("nats:\n  urls: [%s, tls://127.0.0.1:1]\n  %s\n", url, tc.auth)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(p, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			co, so, err := natsbus.FromConfig(cfg.NATS, t.Name())
			if err != nil {
				t.Fatal(err)
			}
			co.Logger = quiet()
			nc, err := natsbus.Connect(co)
			if tc.err != "" {
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				t.Logf("as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			so.Logger = quiet()
			if err := natsbus.EnsureStreams(context.Background(), js, so); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(context.Background(), natsbus.EventSubject("lgwan", "sshd"), []byte("{}")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
	dir  string
}

func newCA(t *testing.T, dir string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zonewatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: dir}
	ca.file = writePEM(t, dir, "ca.crt", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return writePEM(t, ca.dir, name+".crt", "CERTIFICATE", der), writePEM(t, ca.dir, name+".key", "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
