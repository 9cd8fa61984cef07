// Package auth issues and verifies the stateless JWT sessions and hashes
// passwords. Any instance holding the same signing keys verifies any other
// instance's tokens: no session state lives in a process.
package auth

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scalestack/scalestack/app/internal/config"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// Claims is what a verified token says about its bearer.
type Claims struct {
	UserID int64
	Role   shop.Role
}

type tokenClaims struct {
	Role shop.Role `json:"role"`
	jwt.RegisteredClaims
}

// Keyring signs with its first key and verifies with any of them, so a key
// can be rotated in (added second, then moved first) and out without logging
// anybody out.
type Keyring struct {
	signing config.SigningKey
	byID    map[string][]byte
	issuer  string
	ttl     time.Duration
	now     func() time.Time
	parser  *jwt.Parser
}

// NewKeyring returns a keyring for tokens of the given issuer and lifetime.
func NewKeyring(keys []config.SigningKey, issuer string, ttl time.Duration) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: no signing keys")
	}
	k := &Keyring{signing: keys[0], byID: map[string][]byte{}, issuer: issuer, ttl: ttl, now: time.Now}
	for _, key := range keys {
		k.byID[key.ID] = key.Secret
	}
	k.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(func() time.Time { return k.now() }),
	)
	return k, nil
}

// Issue returns a signed token for the user and its expiry.
func (k *Keyring) Issue(userID int64, role shop.Role) (string, time.Time, error) {
	now := k.now().Truncate(time.Second)
	exp := now.Add(k.ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    k.issuer,
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	t.Header["kid"] = k.signing.ID
	s, err := t.SignedString(k.signing.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, key id, issuer and expiry. Every
// failure is shop.ErrUnauthorized.
func (k *Keyring) Verify(token string) (Claims, error) {
	var tc tokenClaims
	_, err := k.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		secret, ok := k.byID[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return secret, nil
	})
	if err != nil {
		return Claims{}, shop.Errorf(shop.ErrUnauthorized, "invalid or expired token")
	}
	id, err := strconv.ParseInt(tc.Subject, 10, 64)
	if err != nil || id < 1 || (tc.Role != shop.RoleAdmin && tc.Role != shop.RoleCustomer) {
		return Claims{}, shop.Errorf(shop.ErrUnauthorized, "invalid token claims")
	}
	return Claims{UserID: id, Role: tc.Role}, nil
}
