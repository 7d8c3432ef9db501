package journey

import (
	"context"
	"strings"
	"time"

	"github.com/entra-quickstart/entra-quickstart/internal/state"
	"github.com/entra-quickstart/entra-quickstart/provision"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"github.com/entra-quickstart/entra-quickstart/templates"
)

// record puts the app in the local record: its ids, folder, the files this run created there
// (so reset --restore-files removes only those) and the credential the folder holds: the new
// one once written, else the previous one.
func (s Session) record(ctx context.Context, req Request, result *provision.Result, dir string, prev *state.App, created []string, written bool) error {
	if s.Record == nil {
		return nil
	}
	return s.Record.Update(ctx, func(r *state.Record) error {
		app := result.StateApp(s.CloudKey, req.Sample.ID, req.Name, dir)
		old := r.Find(app.Cloud, app.TenantID, app.UniqueName)
		if old == nil {
			old = prev
		}
		if old != nil {
			app.CreatedFiles = mergeFiles(old.CreatedFiles, created)
			app.OtherFolders = old.MovedTo(dir)
			if !written || (result.Secret == "" && result.Certificate == nil) {
				app.SecretKeyID, app.SecretExpires = old.SecretKeyID, old.SecretExpires
				app.CertificateThumbprint, app.CertificateKeyFile = old.CertificateThumbprint, old.CertificateKeyFile
			}
		} else {
			app.CreatedFiles = created
			if !written {
				app.SecretKeyID, app.SecretExpires, app.CertificateThumbprint = "", time.Time{}, ""
			}
		}
		r.Put(app, time.Now())
		return nil
	})
}

// needsRenew tells whether a new credential must be made: the local record knows none for this
// folder, or the folder's configuration does not hold this app.
func needsRenew(prev *state.App, m *samples.Manifest, dir string) bool {
	if prev == nil || prev.Folder != dir || (prev.SecretKeyID == "" && prev.CertificateThumbprint == "") {
		return true
	}
	cur, err := templates.Read(m, dir)
	if err != nil || !strings.EqualFold(cur.ClientID, prev.AppID) {
		return true
	}
	if prev.SecretKeyID != "" && !prev.SecretExpires.IsZero() && time.Until(prev.SecretExpires) < 7*24*time.Hour {
		return true // close to expiry: renew now rather than fail next week
	}
	return cur.ClientSecret == "" && cur.Certificate == nil
}

func currentKeyID(prev *state.App) string {
	if prev == nil {
		return ""
	}
	return prev.SecretKeyID
}

func mergeFiles(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range append(append([]string(nil), a...), b...) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
