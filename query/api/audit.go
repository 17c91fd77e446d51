package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Record is one audited request.
type Record struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Principal string    `json:"principal"` // "" when the token was not valid
	TokenID   string    `json:"token_id"`
	Role      Role      `json:"role"`
	Zones     []string  `json:"zones"`
	Endpoint  string    `json:"endpoint"`
	Filter    string    `json:"filter"`
	Request   string    `json:"request"` // the request's parameters as JSON
	Rows      int       `json:"rows"`
	Status    int       `json:"status"`
	Error     string    `json:"error"`
	Duration  time.Duration
	Remote    string `json:"remote"`
}

// Auditor records requests. The API refuses to answer a query whose record it cannot write.
type Auditor interface {
	Record(ctx context.Context, r Record) error
}

// TableAudit writes records into the audit table (internal/clickhouse migrations 0007_audit, 0008_api_tokens), one insert each.
type TableAudit struct {
	Conn     driver.Conn
	Database string // default zonewatch
}

// Record implements Auditor.
func (a *TableAudit) Record(ctx context.Context, r Record) error {
	db := a.Database
	if db == "" {
		db = "zonewatch"
	}
	if !isIdent(db) {
		return fmt.Errorf("api: TableAudit.Database %q is not a plain identifier", db)
	}
	zones := r.Zones
	if zones == nil {
		zones = []string{}
	}
	// The record is written even when the request's context has ended (the client went away).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := a.Conn.Exec(ctx, "INSERT INTO "+db+".audit (time, request_id, principal, token_id, role, zones, endpoint, filter, request, rows, status, error, duration_ms, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.Time.UTC(), r.RequestID, r.Principal, r.TokenID, string(r.Role), zones, r.Endpoint, r.Filter, r.Request,
		uint64(r.Rows), uint16(r.Status), r.Error, uint32(r.Duration.Milliseconds()), r.Remote)
	if err != nil {
		return fmt.Errorf("api: write audit record into %s.audit: %w", db, err)
	}
	return nil
}

// MemoryAudit keeps records in memory (tests, development).
type MemoryAudit struct {
	mu      sync.Mutex
	records []Record
	// Fail makes Record fail, to test that unaudited queries are refused.
	Fail error
}

// Record implements Auditor.
func (m *MemoryAudit) Record(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.records = append(m.records, r)
	return nil
}

// Records returns the records so far.
func (m *MemoryAudit) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.records...)
}
