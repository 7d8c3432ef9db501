package templates

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/joho/godotenv"

	"github.com/entra-quickstart/entra-quickstart/samples"
)

// FuzzEnvRead is the .env reader's target. For any bytes: ParseEnv does not panic; what it
// accepts it keeps byte for byte (Bytes gives the input back); every key it lists reads back;
// the sample's whole read-back (Read, over a folder holding the file as the Node sample's .env)
// fails when ParseEnv does and otherwise returns the value Get gives; and each value, written
// alone by the editor, reads back the same through the editor and through godotenv (an
// independent dotenv reader, as the samples' own are).
func FuzzEnvRead(f *testing.F) {
	addFixtureSeeds(f, ".env")
	for _, s := range []string{
		"CLIENT_ID=abc\n", "export CLIENT_ID='a b' # c\r\n", "CLIENT_ID=\"x\\ny\"\n", "A=1\nA=2\n", "# only a comment",
		"CLIENT_ID=`tick`\n", "=novalue\n", "CLIENT_ID\n", "\ufeffCLIENT_ID=x\n", "CLIENT_ID='unterminated\n", "A=1\rB=2\n",
		"CLIENT_ID= spaced \t# c\n", "CLIENT_ID=$HOME\n", "CLIENT_ID=#notacomment\n",
	} {
		f.Add([]byte(s), "CLIENT_ID", "v")
	}
	m, err := samples.Lookup("node-workforce")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte, key, value string) {
		ef, perr := ParseEnv(src)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".env"), src, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, rerr := Read(m, dir)
		if perr != nil {
			if !errors.Is(perr, ErrMalformed) && !errors.Is(perr, ErrDuplicateKey) {
				t.Fatalf("ParseEnv failed with an error of no known kind: %v", perr)
			}
			if rerr == nil {
				t.Fatalf("Read accepted a file ParseEnv refuses (%v)", perr)
			}
			return
		}
		if got := ef.Bytes(); !bytes.Equal(got, src) {
			t.Fatalf("the parsed file does not give its bytes back:\n%q\n%q", src, got)
		}
		for _, k := range ef.Keys() {
			if _, ok := ef.Get(k); !ok {
				t.Fatalf("listed key %q does not read back", k)
			}
		}
		if rerr == nil {
			if id, ok := ef.Get("CLIENT_ID"); ok && id != cfg.ClientID {
				t.Fatalf("Read's client id %q, the file's %q", cfg.ClientID, id)
			}
		}

		// What the editor writes, the readers read.
		if !envAssign.MatchString(key+"=") || strings.ContainsAny(key, " \t=") {
			return
		}
		fresh, _ := ParseEnv(nil)
		if err := fresh.Set(key, value); err != nil {
			return // a value the editor refuses to write (it says so)
		}
		out := fresh.Bytes()
		again, err := ParseEnv(out)
		if err != nil {
			t.Fatalf("the editor wrote what its reader refuses: %v\n%q", err, out)
		}
		if got, _ := again.Get(key); got != value {
			t.Fatalf("%q reads back %q, written %q", key, got, value)
		}
		env, err := godotenv.Unmarshal(string(out))
		if err != nil {
			t.Fatalf("godotenv refuses what the editor wrote: %v\n%q", err, out)
		}
		if env[key] != value {
			t.Fatalf("godotenv reads %q as %q, written %q\n%q", key, env[key], value, out)
		}
	})
}
