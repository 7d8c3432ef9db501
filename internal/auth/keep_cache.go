//go:build linux || windows || (darwin && cgo)

package auth

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity/cache"
)

// openPersistentCache opens azidentity's encrypted persistent cache of that name; it fails
// where the system offers no encrypted storage (no kernel keyring, no Keychain session).
func openPersistentCache(name string) (azidentity.Cache, error) {
	return cache.New(&cache.Options{Name: name})
}
