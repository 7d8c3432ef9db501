package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/entra-quickstart/entra-quickstart/internal/appdir"
	"github.com/entra-quickstart/entra-quickstart/samples"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/entra-quickstart/entra-quickstart/internal/auth"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator"
	"github.com/entra-quickstart/entra-quickstart/internal/emulator/emuclient"
)

// target is the cloud a command works against, and the in-process emulator when --emulator
// started one (Close stops it).
type target struct {
	Cloud auth.Cloud
	// Emu is the in-process emulator (--emulator), nil otherwise.
	Emu *emulator.Emulator
	// Info describes the emulator (--emulator or --emulator-url), nil for a real cloud.
	Info *emuclient.Info
}

func (t *target) Close() {
	if t.Emu != nil {
		// This process's idle keep-alive connections first: the server's graceful shutdown
		// otherwise waits out HTTP/2's one-second GOAWAY timeout for them.
		if tr, ok := t.Cloud.Transport.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
		t.Emu.Close()
	}
}

// openTarget resolves the global cloud flags.
func openTarget(ctx context.Context, g *GlobalOptions) (*target, error) {
	switch {
	case g.Emulator && g.EmulatorURL != "":
		return nil, usagef("--emulator and --emulator-url exclude each other: --emulator runs one in this process, --emulator-url uses a running one")
	case g.Emulator:
		return startLocalEmulator()
	case g.EmulatorURL != "":
		if g.CAFile == "" {
			return nil, usagef("--emulator-url needs --ca-file: the ca_file the emulator printed on its first line")
		}
		pem, err := os.ReadFile(g.CAFile)
		if err != nil {
			return nil, usagef("--ca-file: %w", err)
		}
		c, err := auth.EmulatorCloud(g.EmulatorURL, pem)
		if err != nil {
			return nil, usagef("%w", err)
		}
		// The token beside the CA file by default: whoever may read the CA file the emulator
		// wrote is the person who ran it (the file is 0600), and the command stays as short as
		// before; --emulator-token is for an emulator on another account or a copied CA file.
		token := g.EmulatorToken
		if token == "" {
			if token, err = emuclient.ReadAdminToken(g.CAFile); err != nil {
				return nil, usagef("%w", err)
			}
		}
		info, err := fetchEmulatorInfo(ctx, c, token)
		if err != nil {
			return nil, err
		}
		return &target{Cloud: c, Info: info}, nil
	}
	c, err := auth.CloudByName(g.Cloud)
	if err != nil {
		return nil, usagef("--cloud: %w", err)
	}
	return &target{Cloud: c}, nil
}

// startLocalEmulator runs the emulator in this process with its directory kept in the config
// folder, so list, reset and verify in later runs see what init made. It listens on the same
// port as last time when it can: the sample's files name the emulator's URL.
func startLocalEmulator() (*target, error) {
	dir, err := appdir.Dir()
	if err != nil {
		return nil, err
	}
	dir = filepath.Join(dir, "emulator")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("emulator folder: %w", err)
	}
	portFile := filepath.Join(dir, "port")
	addr := "127.0.0.1:0"
	if b, err := os.ReadFile(portFile); err == nil {
		if p := strings.TrimSpace(string(b)); p != "" {
			addr = net.JoinHostPort("127.0.0.1", p)
		}
	}
	opts := emulator.Options{Addr: addr, DataFile: filepath.Join(dir, "state.json"), Dir: dir}
	e, err := emulator.Start(opts)
	if err != nil && addr != "127.0.0.1:0" {
		return nil, fmt.Errorf("%w\nThe built-in emulator listens on the port it used before, because configured samples name it; free that port, or remove %s to pick a new one (then run init again)", err, portFile)
	}
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(e.Addr())
	if err := os.WriteFile(portFile, []byte(port+"\n"), 0o600); err != nil {
		e.Close()
		return nil, fmt.Errorf("emulator folder: %w", err)
	}
	c, err := auth.EmulatorCloud(e.URL(), e.CAPEM())
	if err != nil {
		e.Close()
		return nil, err
	}
	info := e.Info()
	return &target{Cloud: c, Emu: e, Info: &info}, nil
}

// fetchEmulatorInfo asks a standalone emulator for its tenants.
func fetchEmulatorInfo(ctx context.Context, c auth.Cloud, token string) (*emuclient.Info, error) {
	info, err := emuclient.FetchInfo(ctx, c.HTTPClient(), c.LoginBase, token)
	if errors.Is(err, emuclient.ErrAdminToken) {
		return nil, fmt.Errorf("the emulator at %s refused its admin token (%w): pass the --ca-file of this run of the emulator, or --emulator-token with the admin_token of its first JSON line", c.LoginBase, err)
	}
	if errors.Is(err, emuclient.ErrNotEmulator) {
		return nil, errors.New("the server at --emulator-url is not an entra-quickstart emulator: check the URL")
	}
	if err != nil {
		return nil, fmt.Errorf("the emulator at %s does not answer (%w): start it with 'entra-quickstart emulator' and pass the url and ca_file it prints", c.LoginBase, err)
	}
	return info, nil
}

// emulatorTenant returns the emulator's tenant of a kind, for defaults.
func (t *target) emulatorTenant(kind samples.TenantType) (emuclient.TenantInfo, bool) {
	if t.Info == nil {
		return emuclient.TenantInfo{}, false
	}
	if kind == "" {
		kind = samples.Workforce
	}
	return t.Info.Tenant(emuclient.TenantType(kind)) // the emulator spells the kinds as the catalog does
}
