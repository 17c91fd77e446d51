package api

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Role is what a token may do. Roles are ordered: each may do what the ones before it may.
type Role string

// Roles.
const (
	// Viewer reads aggregates (counts, time series, top values, zone pairs): dashboards.
	Viewer Role = "viewer"
	// Analyst also reads events (search), including raw lines, user names and URLs.
	Analyst Role = "analyst"
	// RuleAuthor may do what an analyst does; rule endpoints live elsewhere.
	RuleAuthor Role = "rule-author"
	// Admin may do everything.
	Admin Role = "admin"
)

var roleOrder = []Role{Viewer, Analyst, RuleAuthor, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(roleOrder, r) }

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool {
	return r.Valid() && slices.Index(roleOrder, r) >= slices.Index(roleOrder, min)
}

// Principal is who a token belongs to.
type Principal struct {
	// TokenID identifies the token (not the secret) in the audit table.
	TokenID string
	Name    string
	Role    Role
	// Zones are the guarded zones the token may read; "*" means all.
	Zones []string
}

// ErrUnauthenticated is returned by an Authenticator for a missing, unknown, expired or revoked token.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator resolves a bearer token to its principal.
type Authenticator interface {
	// Authenticate returns the token's principal, ErrUnauthenticated (wrapped) when the token is
	// not valid, or another error when the store failed.
	Authenticate(ctx context.Context, token string) (*Principal, error)
}

// NewToken returns a new random token (to give to its holder once) and its SHA-256 in hex (to store).
func NewToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = "zw_" + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token, as token stores keep it.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// StaticTokens is an Authenticator over a fixed set of token hashes, e.g. read from a token file.
type StaticTokens struct {
	byHash map[string]Principal
}

// NewStaticTokens returns an Authenticator over hash → principal.
func NewStaticTokens(tokens map[string]Principal) (*StaticTokens, error) {
	s := &StaticTokens{byHash: map[string]Principal{}}
	for h, p := range tokens {
		if err := checkEntry(h, p); err != nil {
			return nil, err
		}
		s.byHash[strings.ToLower(h)] = p
	}
	return s, nil
}

func checkEntry(hash string, p Principal) error {
	if b, err := hex.DecodeString(hash); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("token %q: the hash must be 64 hex digits (the SHA-256 of the token, never the token itself)", p.Name)
	}
	if !p.Role.Valid() {
		return fmt.Errorf("token %q: role %q: use viewer, analyst, rule-author or admin", p.Name, p.Role)
	}
	if len(p.Zones) == 0 {
		return fmt.Errorf("token %q: no zones: list the zones it may read, or * for all", p.Name)
	}
	return nil
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(_ context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	p, ok := s.byHash[HashToken(token)]
	if !ok {
		return nil, ErrUnauthenticated
	}
	return &p, nil
}

// ReadTokenFile reads a token file: one token a line, as
//
//	<sha256 hex> <name> <role> <zone,zone,…|*>
//
// with blank lines and # comments ignored. Errors name the file and the line.
func ReadTokenFile(path string) (*StaticTokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("api: token file: %w", err)
	}
	defer f.Close()
	return parseTokens(path, f)
}

func parseTokens(name string, r io.Reader) (*StaticTokens, error) {
	tokens := map[string]Principal{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s:%d: want <sha256 hex> <name> <role> <zones>, got %d fields", name, n, len(fields))
		}
		h := strings.ToLower(fields[0])
		p := Principal{TokenID: h[:12], Name: fields[1], Role: Role(fields[2]), Zones: strings.Split(fields[3], ",")}
		if err := checkEntry(h, p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if _, dup := tokens[h]; dup {
			return nil, fmt.Errorf("%s:%d: the same token hash is listed twice", name, n)
		}
		tokens[h] = p
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return NewStaticTokens(tokens)
}

// TableTokens is an Authenticator over the api_tokens table (internal/clickhouse migrations 0007_audit, 0008_api_tokens), caching
// valid tokens for CacheFor.
type TableTokens struct {
	Conn     driver.Conn
	Database string
	// CacheFor keeps a valid token's principal this long; default 30s (so a revocation takes
	// effect within it).
	CacheFor time.Duration
	Now      func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p     Principal
	until time.Time
}

// Authenticate implements Authenticator.
func (t *TableTokens) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	h := HashToken(token)
	t.mu.Lock()
	if c, ok := t.cache[h]; ok && now.Before(c.until) {
		t.mu.Unlock()
		p := c.p
		return &p, nil
	}
	t.mu.Unlock()
	db := t.Database
	if db == "" {
		db = "zonewatch"
	}
	if !isIdent(db) {
		return nil, fmt.Errorf("api: TableTokens.Database %q is not a plain identifier", db)
	}
	var (
		p       Principal
		role    string
		expires *time.Time
		revoked bool
	)
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 10}))
	err := t.Conn.QueryRow(ctx, "SELECT id, name, role, zones, expires, revoked FROM "+db+".api_tokens FINAL WHERE token_sha256 = {h:String}",
		clickhouse.Named("h", h)).Scan(&p.TokenID, &p.Name, &role, &p.Zones, &expires, &revoked)
	switch {
	case errors.Is(err, sqlErrNoRows):
		return nil, ErrUnauthenticated
	case err != nil:
		return nil, fmt.Errorf("api: read %s.api_tokens: %w", db, err)
	case revoked, expires != nil && !now.Before(*expires):
		return nil, fmt.Errorf("%w: token %s is revoked or expired", ErrUnauthenticated, p.TokenID)
	}
	p.Role = Role(role)
	if err := checkEntry(h, p); err != nil {
		return nil, fmt.Errorf("%w: api_tokens row %s: %v", ErrUnauthenticated, p.TokenID, err)
	}
	cacheFor := t.CacheFor
	if cacheFor <= 0 {
		cacheFor = 30 * time.Second
	}
	t.mu.Lock()
	if t.cache == nil || len(t.cache) > 10000 {
		t.cache = map[string]cached{}
	}
	t.cache[h] = cached{p: p, until: now.Add(cacheFor)}
	t.mu.Unlock()
	return &p, nil
}

// AddToken stores a token's hash in the api_tokens table.
func AddToken(ctx context.Context, conn driver.Conn, database, hash string, p Principal, expires *time.Time) error {
	if err := checkEntry(hash, p); err != nil {
		return err
	}
	if database == "" {
		database = "zonewatch"
	}
	if !isIdent(database) {
		return fmt.Errorf("api: database %q is not a plain identifier", database)
	}
	now := time.Now().UTC()
	return conn.Exec(ctx, "INSERT INTO "+database+".api_tokens (token_sha256, id, name, role, zones, created, expires, revoked, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		strings.ToLower(hash), p.TokenID, p.Name, string(p.Role), p.Zones, now, expires, false, uint64(now.UnixNano()))
}

var sqlErrNoRows = sql.ErrNoRows

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
