package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
)

// Identity is who a request runs as in zonewatch's terms: the role and zone scope that the query
// API would give a token (query/api), derived from the Grafana user.
type Identity struct {
	Login string
	Role  api.Role
	// Zones are the guarded zones the user may read ("*" for all); Hidden the others, which the
	// engine ANDs out of every query.
	Zones  []string
	Hidden []string
}

// Scope is the query scope of the identity.
func (id Identity) Scope() query.Scope { return query.Scope{Hidden: slices.Clone(id.Hidden)} }

// Identify maps a Grafana user to a zonewatch identity. The SDK passes login and org role (not
// teams), so ZoneScopes are looked up by login. A user without a scope entry reads ViewerZones
// unless they map to admin; a request without a user (Grafana's own background work) gets the
// viewer role and BackgroundZones (default ViewerZones): aggregates, for Grafana's alert rules.
func (s *Settings) Identify(u *backend.User) (Identity, error) {
	if u == nil {
		id := Identity{Role: api.Viewer, Zones: slices.Clone(s.BackgroundZones)}
		id.Hidden = query.HiddenFor(guardedZones, id.Zones)
		return id, nil
	}
	zw, ok := s.RoleMap[u.Role]
	if !ok {
		return Identity{}, fmt.Errorf("the Grafana role %q of user %q maps to no zonewatch role: add it to the data source's roleMap (Viewer, Editor and Admin map by default)", u.Role, u.Login)
	}
	return s.identity(u.Login, api.Role(zw)), nil
}

func (s *Settings) identity(login string, role api.Role) Identity {
	id := Identity{Login: login, Role: role}
	switch scoped, ok := s.ZoneScopes[login]; {
	case ok && login != "":
		id.Zones = slices.Clone(scoped)
	case role == api.Admin:
		id.Zones = []string{"*"}
	default:
		id.Zones = slices.Clone(s.ViewerZones)
	}
	id.Hidden = query.HiddenFor(guardedZones, id.Zones)
	return id
}

// checkZones refuses a filter that names a zone the identity may not read, as the query API does,
// so that a user learns why a panel is empty instead of seeing zeros.
func checkZones(named []string, id Identity) error {
	for _, z := range named {
		if slices.Contains(id.Hidden, z) {
			return &query.Error{Kind: query.ErrForbidden, Msg: fmt.Sprintf(
				"the filter asks for zone %q, which Grafana user %q may not read (zones: %s): ask an administrator to add the zone to the data source's zoneScopes for this login",
				z, id.Login, strings.Join(id.Zones, ", "))}
		}
	}
	return nil
}

// require refuses a query type the identity's role may not run.
func require(id Identity, min api.Role, what string) error {
	if id.Role.AtLeast(min) {
		return nil
	}
	return &query.Error{Kind: query.ErrForbidden, Msg: fmt.Sprintf(
		"%s needs the zonewatch role %s or above; Grafana user %q has %s: ask an administrator to change the data source's roleMap or the user's Grafana role",
		what, min, orNone(id.Login), id.Role)}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
