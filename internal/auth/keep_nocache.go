//go:build !(linux || windows || (darwin && cgo))

package auth

import (
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// openPersistentCache fails: this build has no encrypted storage (on macOS the Keychain needs
// a build with cgo).
func openPersistentCache(string) (azidentity.Cache, error) {
	return azidentity.Cache{}, errors.New("this build of entra-quickstart has no encrypted token storage (on macOS, build it with cgo for the Keychain)")
}
