//go:build integration

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/testenv"
)

func newKey(id string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// appEnv is the environment of one api instance against the test servers.
func appEnv(env testenv.Env, id, addr, keys string) map[string]string {
	return map[string]string{
		"DATABASE_WRITER_URL":  env.WriterURL,
		"DATABASE_READER_URLS": strings.Join(env.ReaderURLs, ","),
		"DATABASE_PASSWORD":    env.Password,
		"REDIS_URL":            env.RedisURL,
		"REDIS_AUTH_TOKEN":     env.RedisToken,
		"JWT_SIGNING_KEYS":     keys,
		"ADMIN_EMAILS":         "admin@example.com",
		"HTTP_ADDR":            addr,
		"INSTANCE_ID":          id,
		"DRAIN_DELAY":          "0s",
		"LOG_LEVEL":            "warn",
	}
}

// startInProcess runs the api's run() until the test ends and returns its base URL.
func startInProcess(t *testing.T, vars map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out io.Writer = io.Discard
	if os.Getenv("TEST_LOG") == "1" {
		out = os.Stderr
	}
	go func() { done <- run(ctx, func(k string) string { return vars[k] }, out) }()
	base := "http://" + vars["HTTP_ADDR"]
	testenv.Eventually(t, 15*time.Second, "the api to listen", func() bool {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return base
}

type client struct {
	t    testing.TB
	base string
	http *http.Client
}

// call sends a JSON request; headers alternate name, value.
func (c client) call(method, path string, body any, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (c client) want(status int, method, path string, body any, headers ...string) (*http.Response, map[string]any) {
	c.t.Helper()
	resp, b := c.call(method, path, body, headers...)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, status)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// login registers a user (or not, if it exists) and returns a bearer header value.
func (c client) login(email string) string {
	c.t.Helper()
	creds := map[string]string{"email": email, "password": "password-123"}
	c.call("POST", "/v1/users", creds)
	_, m := c.want(200, "POST", "/v1/sessions", creds)
	return "Bearer " + m["token"].(string)
}

func TestSessionAndCartAcrossInstances(t *testing.T) {
	env := testenv.Load(t)
	k1, k2 := newKey("k1"), newKey("k2")
	// a signs with k1 only; b already signs with the new key k2 and still verifies k1 (rotation).
	a := client{t: t, base: startInProcess(t, appEnv(env, "a", freeAddr(t), k1))}
	b := client{t: t, base: startInProcess(t, appEnv(env, "b", freeAddr(t), k2+","+k1))}

	email := testenv.Unique("roamer") + "@example.com"
	tokA := a.login(email)
	resp, _ := b.want(200, "GET", "/v1/cart", nil, "Authorization", tokA)
	if resp.Header.Get("X-Served-By") != "b" {
		t.Errorf("X-Served-By = %q, want b", resp.Header.Get("X-Served-By"))
	}

	// The cart lives in Redis: written through a, read through b.
	admin := a.login("admin@example.com")
	_, p := a.want(201, "POST", "/v1/products", map[string]any{"name": "roaming", "price_cents": 10, "stock": 5}, "Authorization", admin)
	pid := int64(p["id"].(float64))
	a.want(200, "PUT", fmt.Sprintf("/v1/cart/items/%d", pid), map[string]any{"quantity": 2}, "Authorization", tokA)
	_, cart := b.want(200, "GET", "/v1/cart", nil, "Authorization", tokA)
	if got := fmt.Sprint(cart["items"]); got != fmt.Sprintf("[map[product_id:%d quantity:2]]", pid) {
		t.Errorf("cart read through b: %s", got)
	}

	// b's tokens carry kid k2, which a does not know yet: rejected, as rotation requires
	// adding a key to every instance's verify list before any instance signs with it.
	tokB := b.login(email)
	a.want(401, "GET", "/v1/cart", nil, "Authorization", tokB)
	a.want(401, "GET", "/v1/cart", nil, "Authorization", tokA+"x")
}

// TestNULIsRefusedNot500: PostgreSQL text cannot hold NUL, which JSON can
// carry ("\u0000"); such input must be a 4xx, never the database's error.
func TestNULIsRefusedNot500(t *testing.T) {
	env := testenv.Load(t)
	a := client{t: t, base: startInProcess(t, appEnv(env, "a", freeAddr(t), newKey("k1")))}
	creds := map[string]string{"email": "nul\x00" + testenv.Unique("u") + "@example.com", "password": "password-123"}
	a.want(400, "POST", "/v1/users", creds)
	a.want(401, "POST", "/v1/sessions", creds)
	admin := a.login("admin@example.com")
	a.want(400, "POST", "/v1/products", map[string]any{"name": "nul\x00", "price_cents": 1, "stock": 1}, "Authorization", admin)
}

func TestReadYourWritesOverHTTP(t *testing.T) {
	env := testenv.Load(t)
	keys := newKey("k1")
	a := client{t: t, base: startInProcess(t, appEnv(env, "a", freeAddr(t), keys))}
	b := client{t: t, base: startInProcess(t, appEnv(env, "b", freeAddr(t), keys))}
	admin := a.login("admin@example.com")
	_, p := a.want(201, "POST", "/v1/products", map[string]any{"name": "ryw", "price_cents": 10, "stock": 5}, "Authorization", admin)
	pid := int64(p["id"].(float64))
	user := a.login(testenv.Unique("ryw") + "@example.com")
	time.Sleep(300 * time.Millisecond) // let the replica replay the user and product

	env.PauseReplay(t)
	resp, order := a.want(201, "POST", "/v1/orders", map[string]any{"items": []map[string]any{{"product_id": pid, "quantity": 1}}},
		"Authorization", user, "Idempotency-Key", testenv.Unique("k"))
	token := resp.Header.Get(consistency.Header)
	if token == "" {
		t.Fatal("order response has no consistency token")
	}
	path := fmt.Sprintf("/v1/orders/%d", int64(order["id"].(float64)))

	// Another instance, no token: the paused replica does not have the order yet.
	b.want(404, "GET", path, nil, "Authorization", user)
	// With the token (header, or the cookie a browser would send) it does.
	_, got := b.want(200, "GET", path, nil, "Authorization", user, consistency.Header, token)
	if got["confirmation_sent_at"] != nil || got["status"] != "pending" {
		t.Errorf("order: %v", got)
	}
	b.want(200, "GET", path, nil, "Authorization", user, "Cookie", consistency.Cookie+"="+token)
	// Stock changed by the order is visible at once through the cache.
	_, prod := b.want(200, "GET", fmt.Sprintf("/v1/products/%d", pid), nil)
	if prod["stock"] != 4.0 {
		t.Errorf("stock after the order = %v, want 4", prod["stock"])
	}
}

func TestZRedisDownProductReadsStill200(t *testing.T) {
	env := testenv.Load(t)
	a := client{t: t, base: startInProcess(t, appEnv(env, "a", freeAddr(t), newKey("k1")))}
	admin := a.login("admin@example.com")
	var paths []string
	for _, name := range []string{"warm", "cold"} {
		_, p := a.want(201, "POST", "/v1/products", map[string]any{"name": name, "price_cents": 10, "stock": 5}, "Authorization", admin)
		paths = append(paths, fmt.Sprintf("/v1/products/%d", int64(p["id"].(float64))))
	}
	a.want(200, "GET", paths[0], nil) // cached before the outage

	env.Services(t, "stop-redis")
	t.Cleanup(func() { env.Services(t, "start-redis") })
	for range 25 {
		for _, p := range paths {
			a.want(200, "GET", p, nil)
		}
	}
	a.want(503, "GET", "/readyz", nil)
	a.want(200, "GET", "/healthz", nil)
	a.want(503, "GET", "/v1/cart", nil, "Authorization", admin)

	env.Services(t, "start-redis")
	testenv.Eventually(t, 10*time.Second, "readyz to recover", func() bool {
		resp, _ := a.call("GET", "/readyz", nil)
		return resp.StatusCode == 200
	})
}

// TestZZDrainUnderLoad runs two api processes behind HAProxy (checking
// /readyz), sends SIGTERM to one under load, and counts failed requests. The
// HAProxy retries nothing (retries 0) and the client retries nothing.
func TestZZDrainUnderLoad(t *testing.T) {
	env := testenv.Load(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	keys := newKey("k1")
	addrA, addrB, front := freeAddr(t), freeAddr(t), freeAddr(t)

	start := func(id, addr string) (*exec.Cmd, *bytes.Buffer) {
		vars := appEnv(env, id, addr, keys)
		vars["DRAIN_DELAY"] = "2s"
		vars["LOG_LEVEL"] = "info"
		cmd := exec.Command(bin)
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		return cmd, &out
	}
	procA, logA := start("a", addrA)
	start("b", addrB)

	cfg := fmt.Sprintf(`global
    maxconn 2000
defaults
    mode http
    retries 0
    timeout connect 2s
    timeout client 15s
    timeout server 15s
frontend fe
    bind %s
    default_backend apps
backend apps
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 100ms fall 1 rise 2
    server a %s check
    server b %s check
`, front, addrA, addrB)
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	hap := exec.Command(env.HAProxy, "-db", "-f", cfgPath)
	var hapOut bytes.Buffer
	hap.Stdout, hap.Stderr = &hapOut, &hapOut
	if err := hap.Start(); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	t.Cleanup(func() { _ = hap.Process.Signal(syscall.SIGTERM); _ = hap.Wait() })

	lb := client{t: t, base: "http://" + front}
	// Both instances up and in rotation.
	testenv.Eventually(t, 20*time.Second, "both instances behind HAProxy", func() bool {
		seen := map[string]bool{}
		for range 10 {
			resp, err := http.Get(lb.base + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			seen[resp.Header.Get("X-Served-By")] = true
		}
		return seen["a"] && seen["b"]
	})
	admin := lb.login("admin@example.com")
	_, p := lb.want(201, "POST", "/v1/products", map[string]any{"name": "drain", "price_cents": 10, "stock": 5}, "Authorization", admin)
	productPath := fmt.Sprintf("/v1/products/%d", int64(p["id"].(float64)))
	user := lb.login(testenv.Unique("drain") + "@example.com")

	// Bounded load: 8 workers for 5 s at most (and 40 000 requests at most);
	// reads, cart writes and logins (slow: argon2id) mixed.
	const workers, maxRequests = 8, 40000
	deadline := time.Now().Add(5 * time.Second)
	var sent, failed atomic.Int64
	var mu sync.Mutex
	servedBefore, servedAfter := map[string]int{}, map[string]int{}
	var failures []string
	var sigtermAt atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := 0; time.Now().Before(deadline) && sent.Add(1) <= maxRequests; i++ {
				var req *http.Request
				switch {
				case w == 0 && i%2 == 0:
					req, _ = http.NewRequest("POST", lb.base+"/v1/sessions", strings.NewReader(`{"email":"admin@example.com","password":"password-123"}`))
				case i%4 == 1:
					req, _ = http.NewRequest("PUT", lb.base+"/v1/cart/items/"+strings.TrimPrefix(productPath, "/v1/products/"), strings.NewReader(`{"quantity":1}`))
					req.Header.Set("Authorization", user)
				default:
					req, _ = http.NewRequest("GET", lb.base+productPath, nil)
				}
				resp, err := hc.Do(req)
				at := time.Now().UnixNano()
				if err != nil {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode != 200 {
					failed.Add(1)
					failures = append(failures, fmt.Sprintf("%s %s: %d from %s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("X-Served-By")))
				}
				if s := sigtermAt.Load(); s == 0 || at < s {
					servedBefore[resp.Header.Get("X-Served-By")]++
				} else {
					servedAfter[resp.Header.Get("X-Served-By")]++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	sigtermAt.Store(time.Now().UnixNano())
	if err := procA.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- procA.Wait() }()
	wg.Wait()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("instance a exited with %v\n%s", err, tail(logA.String(), 2000))
		}
	case <-time.After(15 * time.Second):
		t.Errorf("instance a did not exit within 15s of SIGTERM")
	}

	total := min(sent.Load(), maxRequests)
	t.Logf("requests %d, failed %d; served before SIGTERM %v, after %v", total, failed.Load(), servedBefore, servedAfter)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the drain, e.g. %v", failed.Load(), failures[:min(len(failures), 5)])
	}
	if servedBefore["a"] == 0 || servedBefore["b"] == 0 {
		t.Errorf("load was not spread over both instances before SIGTERM: %v", servedBefore)
	}
	if servedAfter["b"] == 0 {
		t.Errorf("b served nothing after a's SIGTERM: %v", servedAfter)
	}
	if !strings.Contains(logA.String(), `"msg":"draining"`) || !strings.Contains(logA.String(), `"msg":"stopped"`) {
		t.Errorf("instance a did not log draining and stopped:\n%s", tail(logA.String(), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
