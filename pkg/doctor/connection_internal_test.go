package doctor

import (
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// The permissions check sends its access reviews all at once: the
// client's rate limiter must admit them without waiting (client-go's
// default burst of 10 held the last ones back by 200 ms each).
func TestRateLimitAdmitsAllAccessReviews(t *testing.T) {
	c, err := newConnection(&rest.Config{Host: "https://127.0.0.1:1"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	limiter := c.authz.RESTClient().GetRateLimiter()
	if limiter == nil {
		return // no limit at all
	}
	for i := range ClusterAccess() {
		if !limiter.TryAccept() {
			t.Fatalf("the rate limiter admits %d requests at once; the permissions check sends %d", i, len(ClusterAccess()))
		}
	}
}
