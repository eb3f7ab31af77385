package session_test

import "testing"

// BenchmarkLoginExternal: LOGIN and LOGOUT over TCP with the external
// authenticator (the real cryptauth) as a -listen daemon serves them: a
// process per login (before authent_number), the shared pool
// (auth_nocache), the pool behind the cache. Logins per second =
// 1e9 / ns/op. go test -bench LoginExternal -run '^$' ./session/
func BenchmarkLoginExternal(b *testing.B) {
	for _, c := range []struct {
		name   string
		shared bool
		conf   []string
	}{
		{"process-per-login", false, nil},
		{"pool", true, []string{"auth_nocache true"}},
		{"pool+cache", true, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, c.conf...)
			if c.shared {
				e.useSharedAuth()
			}
			for b.Loop() {
				cl := e.dial()
				cl.ok("LOGIN alice alice-secret")
				cl.logout()
				cl.conn.Close()
			}
		})
	}
}
