package emulator

import (
	"net/http"
	"sync"
)

// identityState is the in-memory state of the sign-in service: sessions, codes, device codes,
// refresh tokens. It is not persisted: a restart signs everyone out, as a new browser would.
type identityState struct {
	mu sync.Mutex
}

func newIdentityState() *identityState { return &identityState{} }

// identityRoutes are the routes of login.microsoftonline.com and <label>.ciamlogin.com.
func (e *Emulator) identityRoutes() []route {
	return []route{
		rt("login.ping", http.MethodGet, `/_ping`, func(w http.ResponseWriter, r *http.Request, _ params) {
			_, _ = w.Write([]byte("ok"))
		}),
	}
}
