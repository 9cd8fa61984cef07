package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (s *Server) authenticate(r *http.Request) (auth.Claims, error) {
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return auth.Claims{}, shop.Errorf(shop.ErrUnauthorized, "missing bearer token")
	}
	return s.d.Keys.Verify(tok)
}

// user requires a valid session.
func (s *Server) user(h func(w http.ResponseWriter, r *http.Request, c auth.Claims) error) errorHandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, c)
	}
}

// admin requires a valid session of an admin.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, c auth.Claims) error) errorHandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
		if c.Role != shop.RoleAdmin {
			return shop.Errorf(shop.ErrForbidden, "admins only")
		}
		return h(w, r, c)
	})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in shop.Credentials
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return err
	}
	role := shop.RoleCustomer
	if s.isAdminEmail(in.Email) {
		role = shop.RoleAdmin
	}
	u, lsn, err := s.d.Users.CreateUser(r.Context(), shop.User{Email: in.Email, PasswordHash: hash, Role: role})
	if err != nil {
		return err
	}
	setToken(w, r, lsn)
	return writeJSON(w, http.StatusCreated, struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}{u.ID, u.Email})
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var in shop.Credentials
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	in.Normalize()
	bad := shop.Errorf(shop.ErrUnauthorized, "wrong email or password")
	if !shop.ValidEmail(in.Email) {
		// No account has it, and the database would refuse some (NUL).
		auth.CheckDummy(in.Password)
		return bad
	}
	u, err := s.d.Users.UserByEmail(r.Context(), in.Email)
	if errors.Is(err, shop.ErrNotFound) {
		auth.CheckDummy(in.Password) // same time as a known email
		return bad
	}
	if err != nil {
		return err
	}
	if ok, err := auth.CheckPassword(u.PasswordHash, in.Password); err != nil || !ok {
		return bad
	}
	tok, exp, err := s.d.Keys.Issue(u.ID, u.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}{tok, exp.UTC().Format(time.RFC3339)})
}
