package emulator

import (
	"net/http"
	"strings"
	"time"
)

// ssoCookie is the single-sign-on cookie on the sign-in host: with it a second sign-in skips
// the password, and sign-out knows which apps to tell.
const ssoCookie = "ESTSAUTH"

// browserSession is one browser's sign-in state, keyed by the SSO cookie.
type browserSession struct {
	ID       string
	Accounts []*account
}

// account is one user signed in in a browser: a login session with its own sid, and the apps
// that got tokens through it (front-channel logout calls each of them).
type account struct {
	TenantID string
	UserID   string
	Username string // as shown (UPN, or the email of an External ID customer)
	Name     string
	SID      string
	AuthTime time.Time
	Apps     []string // client ids, in sign-in order
}

func (a *account) addApp(clientID string) {
	for _, x := range a.Apps {
		if strings.EqualFold(x, clientID) {
			return
		}
	}
	a.Apps = append(a.Apps, clientID)
}

// browserLocked returns the request's browser session, or nil. s.mu must be held.
func (s *identityState) browserLocked(r *http.Request) *browserSession {
	c, err := r.Cookie(ssoCookie)
	if err != nil {
		return nil
	}
	return s.browsers[c.Value]
}

// accountBySIDLocked finds a signed-in account by its sid, in any browser. s.mu must be held.
func (s *identityState) accountBySIDLocked(sid string) (*browserSession, *account) {
	for _, b := range s.browsers {
		for _, a := range b.Accounts {
			if a.SID == sid {
				return b, a
			}
		}
	}
	return nil, nil
}

// signInLocked records a fresh password sign-in in the request's browser session (making one,
// and setting the cookie, when there is none). s.mu must be held.
func (s *identityState) signInLocked(w http.ResponseWriter, r *http.Request, now time.Time, t *Tenant, u *User) *account {
	b := s.browserLocked(r)
	if b == nil {
		b = &browserSession{ID: randomToken("", 32)}
		s.browsers[b.ID] = b
	}
	// The cookie is (re)sent on every sign-in: a browser that lost it gets it back.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: b.ID, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	acc := &account{TenantID: t.ID, UserID: u.ID, Username: signInName(t, u), Name: u.DisplayName, SID: NewGUID(), AuthTime: now}
	kept := b.Accounts[:0]
	for _, a := range b.Accounts {
		if !(a.TenantID == t.ID && a.UserID == u.ID) {
			kept = append(kept, a)
		}
	}
	b.Accounts = append(kept, acc)
	return acc
}

// signInName is the name a user signs in with and that ID tokens show as preferred_username:
// the UPN, or for an External ID customer the email address.
func signInName(t *Tenant, u *User) string {
	if t.Type == ExternalID && u.Mail != "" {
		return u.Mail
	}
	return u.UserPrincipalName
}
