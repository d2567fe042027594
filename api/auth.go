package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// requireToken checks "Authorization: Bearer <token>" on every request of
// the group it guards. The comparison is constant-time (over SHA-256
// digests, so the token's length does not leak either). An empty token
// disables the check; the server logs a warning at start in that case.
func requireToken(token string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	return func(c *gin.Context) {
		if token == "" {
			c.Next()
			return
		}
		h := c.GetHeader("Authorization")
		got, ok := strings.CutPrefix(h, "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="wmss"`)
			problem(c, http.StatusUnauthorized, typeUnauthorized, "Unauthorized",
				"missing or wrong bearer token", "Authorization")
			return
		}
		c.Next()
	}
}
