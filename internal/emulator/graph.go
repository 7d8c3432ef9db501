package emulator

import "net/http"

// graphAPIRoutes are the Graph v1.0 routes, matched against the path after /v1.0.
func (e *Emulator) graphAPIRoutes() []route {
	return []route{
		rt("graph.organization.list", http.MethodGet, `/organization`, func(w http.ResponseWriter, r *http.Request, _ params) {
			writeGraphJSON(w, r, http.StatusOK, map[string]any{"value": []any{}})
		}),
	}
}
