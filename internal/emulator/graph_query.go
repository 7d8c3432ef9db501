package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// collection describes a Graph collection for the query options: its entity set (for
// @odata.context), its type and resource names (for error messages), the properties $filter
// may use, and a rendered empty object (the properties $select may name).
type collection struct {
	set        string // e.g. "applications"
	typ        string // e.g. "microsoft.graph.application"
	resource   string // e.g. "Application"
	filterable []string
	orderable  []string
	template   map[string]any
}

const (
	defaultPageSize = 100
	maxPageSize     = 999
)

// list answers a collection request: $filter, $search, $orderby, $count, $top, $skiptoken and
// $select, with Graph's rules for advanced queries (ConsistencyLevel: eventual + $count=true).
// items are rendered objects. It returns false (nothing changed).
func (g *gcall) list(col collection, items []map[string]any) bool {
	q := g.r.URL.Query()
	eventual := strings.EqualFold(strings.TrimSpace(g.r.Header.Get("ConsistencyLevel")), "eventual")
	count := strings.EqualFold(q.Get("$count"), "true")
	advancedOK := eventual && count

	if s := q.Get("$search"); s != "" {
		if !eventual {
			return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		items = search(items, s)
	}
	if f := q.Get("$filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return g.fail(http.StatusBadRequest, "BadRequest", err.Error())
		}
		for _, p := range filterProps(e) {
			if _, known := col.template[p]; !known {
				return g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", p, col.typ))
			}
			if !contains(col.filterable, p) {
				return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p, col.resource))
			}
		}
		if usesFunc(e, "contains") {
			return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
		}
		if op := advancedOperator(e); op != "" && !advancedOK {
			return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information", op))
		}
		var kept []map[string]any
		for _, it := range items {
			ok, err := evalFilter(e, it)
			if err != nil {
				return g.fail(http.StatusBadRequest, "BadRequest", err.Error())
			}
			if ok {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if ob := q.Get("$orderby"); ob != "" {
		if q.Get("$filter") != "" && !advancedOK {
			return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", "Sorting not supported for current query.")
		}
		prop, dir, _ := strings.Cut(strings.TrimSpace(ob), " ")
		dir = strings.ToLower(strings.TrimSpace(dir))
		if _, known := col.template[prop]; !known {
			return g.fail(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", prop, col.typ))
		}
		if !contains(col.orderable, prop) || (dir != "" && dir != "asc" && dir != "desc") {
			return g.fail(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported sort property '%s' for '%s'.", prop, col.resource))
		}
		sort.SliceStable(items, func(i, j int) bool {
			c, _ := order(orEmpty(items[i][prop]), orEmpty(items[j][prop]))
			if dir == "desc" {
				return c > 0
			}
			return c < 0
		})
	}
	top := defaultPageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxPageSize {
			return g.fail(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", t, maxPageSize))
		}
		top = n
	}
	if m := g.e.faults.config().MaxPageSize; m > 0 && top > m {
		top = m
	}
	offset := 0
	if st := q.Get("$skiptoken"); st != "" {
		n, ok := decodeSkipToken(st)
		if !ok {
			return g.fail(http.StatusBadRequest, "Request_BadRequest", "Invalid paging token specified.")
		}
		offset = n
	}
	sel, err := parseSelect(q.Get("$select"), col.template, col.typ)
	if err != nil {
		return g.fail(http.StatusBadRequest, "BadRequest", err.Error())
	}

	total := len(items)
	if offset > total {
		offset = total
	}
	end := offset + top
	if end > total {
		end = total
	}
	page := make([]any, 0, end-offset)
	for _, it := range items[offset:end] {
		if sel != nil {
			it = project(it, sel)
		}
		page = append(page, it)
	}
	ctx := col.set
	if sel != nil {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	out := map[string]any{"@odata.context": g.metadata() + ctx, "value": page}
	if count && eventual {
		out["@odata.count"] = total
	}
	if end < total {
		out["@odata.nextLink"] = g.nextLink(end)
	}
	writeGraphJSON(g.w, g.r, http.StatusOK, out)
	return false
}

// countOnly answers the /$count segment: a plain number, only as an advanced query.
func (g *gcall) countOnly(n int) bool {
	if !strings.EqualFold(strings.TrimSpace(g.r.Header.Get("ConsistencyLevel")), "eventual") {
		return g.fail(http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
	}
	graphHeaders(g.w, g.r)
	g.w.Header().Set("Content-Type", "text/plain")
	g.w.WriteHeader(http.StatusOK)
	fmt.Fprint(g.w, n)
	return false
}

// nextLink is this request's own URL (scheme, host, path, query) with a $skiptoken for the
// next page, so a client reaching the emulator at any base follows it back here.
func (g *gcall) nextLink(offset int) string {
	q := g.r.URL.Query()
	q.Set("$skiptoken", encodeSkipToken(offset))
	// Keep $ literal in the option names, as Graph writes them.
	enc := strings.ReplaceAll(q.Encode(), "%24", "$")
	return "https://" + g.r.Host + g.r.URL.EscapedPath() + "?" + enc
}

// Skip tokens are opaque to clients; here they carry the offset of the next page.
func encodeSkipToken(offset int) string {
	return "RFNwdAIAAQAAA" + base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(offset)))
}

func decodeSkipToken(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "RFNwdAIAAQAAA")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(b), "offset:") {
		return 0, false
	}
	return n, true
}

// parseSelect checks a $select list against an object's properties; nil means no $select.
func parseSelect(s string, template map[string]any, typ string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, ok := template[p]; !ok {
			//lint:ignore ST1005 Graph's own message, sent on the wire word for word
			return nil, fmt.Errorf("Could not find a property named '%s' on type '%s'.", p, typ)
		}
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// project keeps the selected properties of a rendered object.
func project(obj map[string]any, sel []string) map[string]any {
	out := make(map[string]any, len(sel))
	for _, p := range sel {
		out[p] = obj[p]
	}
	return out
}

// search applies $search="prop:words" (or a bare word over displayName) as a case-insensitive
// substring match, which is close enough to Graph's tokenized search for tests.
func search(items []map[string]any, s string) []map[string]any {
	var out []map[string]any
	clauses := strings.Split(s, " OR ")
	for _, it := range items {
		for _, c := range clauses {
			c = strings.Trim(strings.TrimSpace(c), `"`)
			prop, word, ok := strings.Cut(c, ":")
			if !ok {
				prop, word = "displayName", c
			}
			v, _ := it[prop].(string)
			if strings.Contains(strings.ToLower(v), strings.ToLower(word)) {
				out = append(out, it)
				break
			}
		}
	}
	return out
}

// generic turns a rendered object into what JSON decoding gives (map[string]any, []any,
// string, float64, bool, nil), so filters and $select see the wire shape.
func generic(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}
