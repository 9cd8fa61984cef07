package tests

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalestack/scalestack/components"
)

func newCDN(args components.CDNArgs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if args.OriginDomainName == nil {
			args.OriginDomainName = pulumi.String("web-123.us-east-1.elb.amazonaws.com")
		}
		if args.OriginHeaderValue == nil {
			args.OriginHeaderValue = pulumi.String("s3cr3t-origin-value")
		}
		_, err := components.NewCDN(ctx, "cdn", &args)
		return err
	}
}

// behaviour finds the cache behaviour for a path pattern ("" = the default one).
func behaviour(t *testing.T, dist recorded, pattern string) map[string]any {
	t.Helper()
	if pattern == "" {
		b, _ := dist.get("defaultCacheBehavior").(map[string]any)
		return b
	}
	for _, b := range dist.list("orderedCacheBehaviors") {
		if get(b, "pathPattern") == pattern {
			return b.(map[string]any)
		}
	}
	t.Fatalf("no cache behaviour for %s", pattern)
	return nil
}

func TestCDNByDefault(t *testing.T) {
	r := mustRun(t, "dev", nil, newCDN(components.CDNArgs{OriginProtocol: components.OriginHTTPOnly}))
	dist := r.one(t, "aws:cloudfront/distribution:Distribution", "cdn-distribution")
	if dist.str("priceClass") != "PriceClass_100" || dist.get("viewerCertificate.cloudfrontDefaultCertificate") != true || dist.get("loggingConfig") != nil {
		t.Errorf("distribution: want PriceClass_100, CloudFront's certificate and no logging, got %v", dist.Inputs)
	}

	// Origins: the ALB with the secret header, the bucket through origin access control.
	var alb, assets any
	for _, o := range dist.list("origins") {
		switch get(o, "originId") {
		case "alb":
			alb = o
		case "assets":
			assets = o
		}
	}
	if get(alb, "domainName") != "web-123.us-east-1.elb.amazonaws.com" || get(alb, "customOriginConfig.originProtocolPolicy") != "http-only" ||
		get(alb, "customHeaders.0.name") != "X-Origin-Verify" || get(alb, "customHeaders.0.value") != "s3cr3t-origin-value" {
		t.Errorf("ALB origin: got %v", alb)
	}
	if get(assets, "originAccessControlId") != "cdn-oac-id" || get(assets, "domainName") != "cdn-assets-bucket.s3.us-east-1.amazonaws.com" {
		t.Errorf("assets origin: want the bucket through the OAC, got %v", assets)
	}
	oac := r.one(t, "aws:cloudfront/originAccessControl:OriginAccessControl", "cdn-oac")
	if oac.str("originAccessControlOriginType") != "s3" || oac.str("signingBehavior") != "always" || oac.str("signingProtocol") != "sigv4" {
		t.Errorf("OAC: got %v", oac.Inputs)
	}

	// Behaviours.
	static := behaviour(t, dist, "/static/*")
	if get(static, "targetOriginId") != "assets" || get(static, "cachePolicyId") != "cdn-static-id" {
		t.Errorf("/static/*: want the bucket with the long-lived policy, got %v", static)
	}
	staticPolicy := r.one(t, "aws:cloudfront/cachePolicy:CachePolicy", "cdn-static")
	if staticPolicy.num("minTtl") < 86400 || staticPolicy.num("defaultTtl") < 86400 || staticPolicy.num("maxTtl") < 30*86400 {
		t.Errorf("static policy: want cached at least a day, got %v", staticPolicy.Inputs)
	}
	products := behaviour(t, dist, "/v1/products*")
	if get(products, "targetOriginId") != "alb" || get(products, "cachePolicyId") != "cdn-products-id" || !cmp.Equal(asStrings(get(products, "cachedMethods")), []string{"GET", "HEAD"}) {
		t.Errorf("/v1/products*: want the ALB with the products policy caching GET/HEAD, got %v", products)
	}
	policy := r.one(t, "aws:cloudfront/cachePolicy:CachePolicy", "cdn-products")
	key := "parametersInCacheKeyAndForwardedToOrigin."
	if policy.num("minTtl") != 0 || policy.num("defaultTtl") != 0 || policy.num("maxTtl") <= 0 ||
		policy.str(key+"queryStringsConfig.queryStringBehavior") != "all" ||
		!cmp.Equal(asStrings(policy.get(key+"headersConfig.headers.items")), []string{"Authorization"}) {
		t.Errorf("products policy: want the origin's Cache-Control to decide, query strings and Authorization in the key; got %v", policy.Inputs)
	}
	def := behaviour(t, dist, "")
	if get(def, "targetOriginId") != "alb" || get(def, "cachePolicyId") != components.CachingDisabledPolicyID ||
		get(def, "originRequestPolicyId") != components.AllViewerExceptHostHeaderPolicyID || len(asStrings(get(def, "allowedMethods"))) != 7 {
		t.Errorf("default behaviour: want the ALB uncached with every header and query string, all methods; got %v", def)
	}
	for _, b := range append(dist.list("orderedCacheBehaviors"), dist.get("defaultCacheBehavior")) {
		if get(b, "viewerProtocolPolicy") != "redirect-to-https" || get(b, "compress") != true {
			t.Errorf("behaviour %v: want viewers redirected to HTTPS and compression", get(b, "pathPattern"))
		}
	}

	// The bucket: private, owner-enforced, encrypted, readable by this distribution only.
	pab := r.one(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "cdn-assets-pab")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.get(k) != true {
			t.Errorf("assets bucket: %s must be true", k)
		}
	}
	if r.one(t, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "cdn-assets-ownership").str("rule.objectOwnership") != "BucketOwnerEnforced" {
		t.Errorf("assets bucket: want ownership enforced")
	}
	if r.one(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "cdn-assets-sse").str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "" {
		t.Errorf("assets bucket: want SSE")
	}
	st := policyStatements(t, r.one(t, "aws:s3/bucketPolicy:BucketPolicy", "cdn-assets-policy").str("policy"))
	if len(st) != 2 || st[0]["Effect"] != "Allow" || get(st[0], "Principal.Service") != "cloudfront.amazonaws.com" ||
		get(st[0], "Condition.StringEquals.AWS:SourceArn") != "arn:aws:mock:us-east-1:123456789012:aws:cloudfront/distribution:Distribution/cdn-distribution" ||
		!cmp.Equal(asStrings(st[0]["Action"]), []string{"s3:GetObject"}) {
		t.Errorf("bucket policy: want GetObject for this distribution only, got %v", st)
	}
}

func TestCDNWithDomainAndLogging(t *testing.T) {
	r := mustRun(t, "prod", nil, newCDN(components.CDNArgs{
		OriginDomainName: pulumi.String("origin.app.example.com"), DomainName: "app.example.com", HostedZoneID: "Z0123456789EXAMPLE0AB",
		PriceClass: "PriceClass_All", Logging: true,
	}))
	dist := r.one(t, "aws:cloudfront/distribution:Distribution", "cdn-distribution")
	for path, want := range map[string]any{
		"aliases.0": "app.example.com",
		"viewerCertificate.minimumProtocolVersion":          "TLSv1.2_2021",
		"viewerCertificate.sslSupportMethod":                "sni-only",
		"priceClass":                                        "PriceClass_All",
		"loggingConfig.bucket":                              "cdn-logs-bucket.s3.amazonaws.com",
		"origins.0.customOriginConfig.originProtocolPolicy": "https-only",
		"origins.0.customOriginConfig.originSslProtocols.0": "TLSv1.2",
	} {
		if diff := cmp.Diff(want, dist.get(path)); diff != "" {
			t.Errorf("distribution %s (-want +got):\n%s", path, diff)
		}
	}
	if dist.str("viewerCertificate.acmCertificateArn") == "" || r.one(t, "aws:acm/certificate:Certificate", "cdn-cert").str("domainName") != "app.example.com" {
		t.Errorf("want an ACM certificate for the domain")
	}
	if r.one(t, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "cdn-logs-ownership").str("rule.objectOwnership") != "BucketOwnerPreferred" {
		t.Errorf("log bucket: CloudFront standard logs need ACLs (BucketOwnerPreferred)")
	}
	for _, typ := range []string{"A", "AAAA"} {
		rec := r.one(t, "aws:route53/record:Record", "cdn-alias-"+typ)
		if rec.str("name") != "app.example.com" || rec.str("aliases.0.name") != "d111111abcdef8.cloudfront.net" {
			t.Errorf("alias %s: got %v", typ, rec.Inputs)
		}
	}
}

func TestCDNRejects(t *testing.T) {
	tests := []struct {
		name string
		give components.CDNArgs
		want []string
	}{
		{"bad price class", components.CDNArgs{PriceClass: "PriceClass_1"}, []string{`PriceClass: must be one of ["PriceClass_100" "PriceClass_200" "PriceClass_All"], but "PriceClass_1" was given`}},
		{"domain without zone", components.CDNArgs{DomainName: "app.example.com"}, []string{"HostedZoneID: must be given together with DomainName"}},
		{"bad protocol and header", components.CDNArgs{OriginProtocol: "match-viewer", OriginHeaderName: "X Origin"}, []string{`OriginProtocol: must be one of`, `"match-viewer"`, `OriginHeaderName: must be an HTTP header name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := run(t, "dev", nil, newCDN(tt.give))
			checkRejected(t, r, err, tt.want)
		})
	}
	r, err := run(t, "dev", nil, func(ctx *pulumi.Context) error {
		_, err := components.NewCDN(ctx, "cdn", &components.CDNArgs{OriginDomainName: pulumi.String("x")})
		return err
	})
	checkRejected(t, r, err, []string{"OriginHeaderValue: is required"})
}
