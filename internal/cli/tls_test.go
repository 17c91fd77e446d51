package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
)

type pki struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	dir    string
}

func newPKI(t *testing.T) *pki {
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
	p := &pki{caCert: cert, caKey: key, dir: t.TempDir()}
	p.write(t, "ca.crt", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue makes a certificate signed by the CA and writes it and its key as name.crt and name.key.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPath, keyPath string, pair tls.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath = p.write(t, name+".crt", "CERTIFICATE", der)
	keyPath = p.write(t, name+".key", "EC PRIVATE KEY", kder)
	pair, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, pair
}

func TestTLSListenerWithClientCertificates(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	p := newPKI(t)
	srvCert, srvKey, _ := p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	_, _, clientPair := p.issue(t, "fw-lgwan", x509.ExtKeyUsageClientAuth)
	cfg := testConfig(t, dir, db)
	cfg.Listeners = append(cfg.Listeners, config.Listener{Name: "syslog-tls", Protocol: "tls", Address: "127.0.0.1:0",
		TLS: config.TLS{Cert: srvCert, Key: srvKey, CA: filepath.Join(p.dir, "ca.crt")}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	info, stop := startServe(t, cfg, dir)
	defer stop()
	addr := info.Listeners["syslog-tls/tcp"]
	roots := x509.NewCertPool()
	roots.AddCert(p.caCert)

	// A sender with a certificate from the CA is heard (RFC 5425 uses octet counting).
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientPair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	msg := `<134>1 2026-11-02T09:00:00+09:00 fw-lgwan - - - - srcip=10.20.1.5 dstip=10.30.1.5 dstport=443 action="deny"`
	fmt.Fprintf(c, "%d %s", len(msg), msg)
	_ = c.Close()
	waitCount(t, conn, 1, "SELECT count() FROM events WHERE listener = 'syslog-tls' AND source_zone = 'lgwan'")

	// A sender without a certificate is refused; nothing it sends is stored.
	c2, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err == nil {
		fmt.Fprintf(c2, "%d %s", len(msg), msg)
		_, err = c2.Read(make([]byte, 1)) // TLS 1.3 reports the refused certificate on the first read
		_ = c2.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
	time.Sleep(500 * time.Millisecond)
	waitCount(t, conn, 1, "SELECT count() FROM events WHERE listener = 'syslog-tls'")
}
