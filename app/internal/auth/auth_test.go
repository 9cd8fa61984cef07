package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scalestack/scalestack/app/internal/config"
	"github.com/scalestack/scalestack/app/internal/shop"
)

var (
	keyOld = config.SigningKey{ID: "old", Secret: bytes.Repeat([]byte("o"), 32)}
	keyNew = config.SigningKey{ID: "new", Secret: bytes.Repeat([]byte("n"), 32)}
)

func ring(t testing.TB, keys ...config.SigningKey) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys, "scalestack", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIssueVerify(t *testing.T) {
	k := ring(t, keyNew, keyOld)
	tok, exp, err := k.Issue(42, shop.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiry in %s, want about 1h", d)
	}
	got, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Claims{UserID: 42, Role: shop.RoleAdmin}) {
		t.Errorf("claims = %+v", got)
	}
	h, _, _ := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if h.Header["kid"] != "new" {
		t.Errorf("kid = %v, want the first key's id", h.Header["kid"])
	}
}

func TestRotation(t *testing.T) {
	before := ring(t, keyOld)
	tok, _, err := before.Issue(7, shop.RoleCustomer)
	if err != nil {
		t.Fatal(err)
	}
	during := ring(t, keyNew, keyOld)
	if _, err := during.Verify(tok); err != nil {
		t.Errorf("token of the previous key rejected during rotation: %v", err)
	}
	after := ring(t, keyNew)
	if _, err := after.Verify(tok); !errors.Is(err, shop.ErrUnauthorized) {
		t.Errorf("token of a retired key: err = %v, want ErrUnauthorized", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	k := ring(t, keyNew)
	valid, _, _ := k.Issue(1, shop.RoleCustomer)

	expired := ring(t, keyNew)
	expired.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	old, _, _ := expired.Issue(1, shop.RoleCustomer)

	other, _ := NewKeyring([]config.SigningKey{keyNew}, "someone-else", time.Hour)
	foreign, _, _ := other.Issue(1, shop.RoleCustomer)

	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "1", "iss": "scalestack", "exp": time.Now().Add(time.Hour).Unix(), "role": "admin"})
	none.Header["kid"] = "new"
	unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	// Correctly signed with a known secret, but without a kid or with an
	// unknown one: only the kid may choose the key.
	signed := func(kid any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "iss": "scalestack", "role": "customer",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		if kid != nil {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(keyNew.Secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := k.Verify(signed("new")); err != nil {
		t.Fatalf("the kid-less and unknown-kid cases need a token that verifies with its kid: %v", err)
	}

	tampered := valid[:len(valid)-2] + "xx"
	tests := map[string]string{
		"expired":             old,
		"issuer":              foreign,
		"alg none":            unsigned,
		"tampered":            tampered,
		"empty":               "",
		"garbage":             "a.b.c",
		"no kid":              signed(nil),
		"unknown kid":         signed("other"),
		"kid of another type": signed(7),
	}
	for name, tok := range tests {
		if _, err := k.Verify(tok); !errors.Is(err, shop.ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", name, err)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", h)
	}
	if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	if ok, err := CheckPassword(h, "wrong horse"); ok || err != nil {
		t.Errorf("wrong password: %v, %v", ok, err)
	}
	if _, err := CheckPassword("$bcrypt$x", "x"); err == nil {
		t.Error("malformed hash accepted")
	}
}

// FuzzVerify feeds arbitrary strings to token verification: it must never
// panic and never accept anything but a token this keyring signed.
func FuzzVerify(f *testing.F) {
	k := ring(f, keyNew, keyOld)
	valid, _, _ := k.Issue(3, shop.RoleCustomer)
	for _, s := range []string{valid, "", ".", "..", "a.b.c", valid + "x", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := k.Verify(tok)
		if err != nil {
			if !errors.Is(err, shop.ErrUnauthorized) {
				t.Fatalf("Verify error %v is not ErrUnauthorized", err)
			}
			return
		}
		// Only the token this keyring signed (or a spelling of it that decodes
		// to the same signed bytes) may verify, and it carries its own claims.
		if c != (Claims{UserID: 3, Role: shop.RoleCustomer}) {
			t.Fatalf("forged token accepted: %q -> %+v", tok, c)
		}
	})
}

func TestHashingWaitsForASlot(t *testing.T) {
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := HashPassword("password-123"); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
		t.Fatal("a password was hashed while every slot was taken")
	case <-time.After(100 * time.Millisecond):
	}
	for range cap(hashSlots) {
		<-hashSlots
	}
	<-done
}
