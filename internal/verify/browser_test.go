package verify

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emulatortest"
	"github.com/entra-quickstart/entra-quickstart/internal/testenv"
)

// newChromium starts headless Chromium (flags from facts/testing.md §2) that reaches the real
// host names at the emulator and trusts the emulator's CA by its key pin.
func newChromium(t *testing.T, e *emulatortest.Emulator) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1000, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	if e != nil {
		blk, _ := pem.Decode(e.CAPEM())
		ca, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pin := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
		opts = append(opts,
			chromedp.Flag("host-resolver-rules", e.HostResolverRules()+", MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
			chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(pin[:])))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// shot saves a screenshot when VERIFY_SCREENSHOTS names a directory (to look at the pages;
// never committed).
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("VERIFY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err == nil {
		t.Logf("screenshot: %s", p)
	}
}

// pageKindJS tells which page the browser is on.
const pageKindJS = `(() => {
	if (document.readyState !== 'complete') return 'loading';
	if (document.getElementById('signout')) return 'signedin';
	if (document.getElementById('signedout')) return 'signedout';
	if (document.getElementById('error')) return 'error';
	if (document.querySelector('input[type=password]')) return 'login';
	if (document.querySelector('form button[value=accept], form button#accept, form button[type=submit]')) return 'form';
	return 'other';
})()`

// waitPage waits until the page is one of the kinds a person would act on.
func waitPage(ctx context.Context) (string, error) {
	for {
		k, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageKindJS))
		if err == nil && k != "loading" && k != "other" {
			return k, nil
		}
		select {
		case <-ctx.Done():
			loc, _ := chromedp.Run(context.Background(), chromedp.Location())
			return "", fmt.Errorf("no page to act on (last %q at %s): %w", k, loc, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestBrowserJourneyEmulator: the whole journey once in real Chromium against the emulator
// under the real host names: start page, the emulator's login (and consent if asked), the
// signed-in page, sign-out through Entra's page (whose iframe loads the front-channel URL) and
// back to the post-logout page.
func TestBrowserJourneyEmulator(t *testing.T) {
	e := emulatortest.New(t, emulatortest.WithDir(t.TempDir()))
	bctx := newChromium(t, e)
	redirect, post, front := localURIs(t, "http")
	a := registerApp(t, e, emulator.Workforce, []string{redirect, post}, front)
	cfg := emulatorConfig(e, a, true, redirect, post, front)
	var seen []string
	rep, err, _, derr := runWith(t, cfg, Options{HTTPClient: e.Client()}, func(_ context.Context, start string) error {
		if err := chromedp.Do(bctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
			return fmt.Errorf("start page: %w", err)
		}
		shot(t, bctx, "1-start")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("signin"))); err != nil {
			return err
		}
		for range 6 {
			k, err := waitPage(bctx)
			if err != nil {
				return err
			}
			seen = append(seen, k)
			switch k {
			case "login":
				if err := chromedp.Do(bctx,
					chromedp.SendKeys(chromedp.CSS("input[name=username]"), a.user),
					chromedp.SendKeys(chromedp.CSS("input[type=password]"), emulator.DemoPassword),
					chromedp.Evaluate[chromedp.Void](`document.querySelector('input[type=password]').form.requestSubmit()`),
					chromedp.Sleep(200*time.Millisecond)); err != nil {
					return fmt.Errorf("login page: %w", err)
				}
			case "form":
				if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`(() => { const b = [...document.querySelectorAll('form button')].find(b => !/cancel|decline/i.test(b.textContent + b.value)); b.click(); })()`),
					chromedp.Sleep(200*time.Millisecond)); err != nil {
					return fmt.Errorf("consent page: %w", err)
				}
			case "signedin":
				shot(t, bctx, "2-signed-in")
				if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signedout"))); err != nil {
					return fmt.Errorf("sign-out: %w", err)
				}
				shot(t, bctx, "3-signed-out")
				return nil
			case "error":
				shot(t, bctx, "error")
				text, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
				return fmt.Errorf("error page: %s", text)
			}
		}
		return fmt.Errorf("did not reach the signed-in page: %v", seen)
	})
	if err != nil || derr != nil {
		t.Fatalf("run: %v\ndrive: %v\n%s", err, derr, statuses(rep))
	}
	for _, s := range Steps() {
		if rep.Step(s).Status != Passed {
			t.Errorf("%s = %s (%s)", s, rep.Step(s).Status, rep.Step(s).Detail)
		}
	}
	t.Logf("pages: %v", seen)
}

// TestBrowserErrorPage: an error redirect with an AADSTS code shows its diagnosis in a real
// browser (the in-test provider sends the error, as Entra does for a declined consent).
func TestBrowserErrorPage(t *testing.T) {
	op := newFakeOP(t)
	op.authorizeError = [2]string{"access_denied", "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1"}
	cfg := fakeConfig(t, op)
	bctx := newChromium(t, nil)
	var diag string
	rep, _, _, derr := runWith(t, cfg, Options{}, func(_ context.Context, start string) error {
		if err := chromedp.Do(bctx, chromedp.Navigate(baseOf(start)+signInPath), chromedp.WaitVisible(chromedp.ID("diagnosis"))); err != nil {
			return err
		}
		out, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("diagnosis")))
		diag = out
		shot(t, bctx, "4-error")
		return err
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if rep.Step(StepAuthorize).Status != Failed || !contains(diag, "AADSTS65004", "Consent declined", "What to do") {
		t.Errorf("diagnosis on the page: %q; %s", diag, statuses(rep))
	}
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !stringsContains(s, p) {
			return false
		}
	}
	return true
}
