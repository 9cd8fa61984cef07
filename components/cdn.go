package components

import (
	"encoding/json"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AWS-managed CloudFront policies (their IDs are the same in every account).
const (
	// CachingDisabledPolicyID is the managed cache policy Managed-CachingDisabled.
	CachingDisabledPolicyID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	// AllViewerExceptHostHeaderPolicyID is the managed origin request policy Managed-AllViewerExceptHostHeader:
	// every viewer header (with caching disabled, Authorization too), cookie and query string, but not Host.
	AllViewerExceptHostHeaderPolicyID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// Origin protocols accepted by CDNArgs.OriginProtocol.
const (
	OriginHTTPSOnly = "https-only" // the origin has a certificate for OriginDomainName
	OriginHTTPOnly  = "http-only"  // the origin has no domain of its own (dev only: the shared header travels in clear)
)

// CDNArgs configures a CDN.
type CDNArgs struct {
	// OriginDomainName is the load balancer's name as CloudFront reaches it: a domain its certificate covers
	// with OriginHTTPSOnly, or its DNS name with OriginHTTPOnly.
	OriginDomainName pulumi.StringInput
	// OriginProtocol is OriginHTTPSOnly or OriginHTTPOnly. Default: OriginHTTPSOnly.
	OriginProtocol string
	// OriginHeaderName and OriginHeaderValue are sent with every request to the load balancer, which forwards
	// only requests that carry them. The value is a secret shared with the load balancer. Default name:
	// X-Origin-Verify.
	OriginHeaderName  string
	OriginHeaderValue pulumi.StringInput
	// DomainName, when set, is the distribution's alias, with an ACM certificate (in us-east-1, which
	// CloudFront requires) validated through HostedZoneID and A/AAAA alias records. Default: only the
	// distribution's cloudfront.net name, with CloudFront's certificate.
	DomainName   string
	HostedZoneID string
	// CertificateProvider is an AWS provider in us-east-1 for the certificate, needed when the stack's region
	// is another. Default: the stack's provider.
	CertificateProvider pulumi.ProviderResource
	// PriceClass is PriceClass_100, PriceClass_200 or PriceClass_All. Default: PriceClass_100.
	PriceClass string
	// Logging writes standard access logs to a private, encrypted bucket created for them. Default: off.
	Logging bool
	// LogRetentionDays is how long access logs are kept. Default: 90.
	LogRetentionDays int
	// APICacheMaxAgeSeconds caps how long a GET /v1/products* response is cached, whatever its Cache-Control says.
	// Default: 86400 (seconds).
	APICacheMaxAgeSeconds int
	// Tags are added to every resource that takes tags. Default: none.
	Tags map[string]string
}

// CDN is a CloudFront distribution in front of the load balancer and a private static-asset bucket:
// /static/* comes from the bucket (through origin access control) and is cached long; GET /v1/products* is
// cached as the origin's Cache-Control says; everything else goes to the load balancer uncached, with the
// Authorization header and the query string.
type CDN struct {
	pulumi.ResourceState

	// DomainName is the distribution's cloudfront.net name; URL is where users reach the service.
	DomainName pulumi.StringOutput
	URL        pulumi.StringOutput
	// DistributionID and DistributionARN identify the distribution.
	DistributionID  pulumi.StringOutput
	DistributionARN pulumi.StringOutput
	// AssetsBucket is the static-asset bucket; objects under static/ are served at /static/.
	AssetsBucket pulumi.StringOutput
}

var headerName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

func (a CDNArgs) withDefaults() CDNArgs {
	if a.OriginProtocol == "" {
		a.OriginProtocol = OriginHTTPSOnly
	}
	if a.OriginHeaderName == "" {
		a.OriginHeaderName = "X-Origin-Verify"
	}
	if a.PriceClass == "" {
		a.PriceClass = "PriceClass_100"
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = 90
	}
	if a.APICacheMaxAgeSeconds == 0 {
		a.APICacheMaxAgeSeconds = 86400
	}
	return a
}

func (a CDNArgs) validate(name string) error {
	p := newProblems("CDN", name)
	if a.OriginDomainName == nil {
		p.addf("OriginDomainName", "is required")
	}
	p.oneOf("OriginProtocol", a.OriginProtocol, OriginHTTPSOnly, OriginHTTPOnly)
	if !headerName.MatchString(a.OriginHeaderName) {
		p.addf("OriginHeaderName", "must be an HTTP header name such as X-Origin-Verify, but %q was given", a.OriginHeaderName)
	}
	if a.OriginHeaderValue == nil {
		p.addf("OriginHeaderValue", "is required: without the shared secret the load balancer cannot tell this distribution from others")
	}
	if (a.DomainName == "") != (a.HostedZoneID == "") {
		p.addf("HostedZoneID", "must be given together with DomainName, but DomainName=%q and HostedZoneID=%q were given", a.DomainName, a.HostedZoneID)
	}
	p.oneOf("PriceClass", a.PriceClass, "PriceClass_100", "PriceClass_200", "PriceClass_All")
	p.intRange("LogRetentionDays", a.LogRetentionDays, 1, 3653)
	p.intRange("APICacheMaxAgeSeconds", a.APICacheMaxAgeSeconds, 1, 31536000)
	return p.err()
}

// NewCDN registers a CDN.
func NewCDN(ctx *pulumi.Context, name string, args *CDNArgs, opts ...pulumi.ResourceOption) (*CDN, error) {
	var a CDNArgs
	if args != nil {
		a = *args
	}
	a = a.withDefaults()
	if err := a.validate(name); err != nil {
		return nil, err
	}
	c := &CDN{}
	if err := ctx.RegisterComponentResource(cdnType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagger(name, a.Tags)

	assets, err := privateBucket(ctx, name, "assets", "BucketOwnerEnforced", 0, tags, parent)
	if err != nil {
		return nil, err
	}
	c.AssetsBucket = assets.Bucket
	oac, err := cloudfront.NewOriginAccessControl(ctx, name+"-oac", &cloudfront.OriginAccessControlArgs{
		Description:                   pulumi.String("scalestack " + name + ": CloudFront signs its requests to the asset bucket"),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, parent)
	if err != nil {
		return nil, err
	}
	staticPolicy, apiPolicy, err := cachePolicies(ctx, name, a, parent)
	if err != nil {
		return nil, err
	}

	const albOrigin, assetsOrigin = "alb", "assets"
	allMethods := pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"})
	getHead := pulumi.ToStringArray([]string{"GET", "HEAD"})
	distArgs := &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String("scalestack " + name),
		IsIpv6Enabled: pulumi.Bool(true),
		HttpVersion:   pulumi.String("http2and3"),
		PriceClass:    pulumi.String(a.PriceClass),
		Origins: cloudfront.DistributionOriginArray{
			cloudfront.DistributionOriginArgs{
				OriginId:   pulumi.String(albOrigin),
				DomainName: a.OriginDomainName,
				CustomOriginConfig: &cloudfront.DistributionOriginCustomOriginConfigArgs{
					OriginProtocolPolicy:   pulumi.String(a.OriginProtocol),
					HttpPort:               pulumi.Int(80),
					HttpsPort:              pulumi.Int(443),
					OriginSslProtocols:     pulumi.ToStringArray([]string{"TLSv1.2"}),
					OriginReadTimeout:      pulumi.Int(30),
					OriginKeepaliveTimeout: pulumi.Int(5),
				},
				CustomHeaders: cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
					Name:  pulumi.String(a.OriginHeaderName),
					Value: pulumi.ToSecret(a.OriginHeaderValue).(pulumi.StringOutput),
				}},
			},
			cloudfront.DistributionOriginArgs{
				OriginId:              pulumi.String(assetsOrigin),
				DomainName:            assets.BucketRegionalDomainName,
				OriginAccessControlId: oac.ID(),
			},
		},
		// Everything not matched below: the API, never cached, every header (Authorization included), cookie
		// and query string forwarded.
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:        pulumi.String(albOrigin),
			ViewerProtocolPolicy:  pulumi.String("redirect-to-https"),
			AllowedMethods:        allMethods,
			CachedMethods:         getHead,
			CachePolicyId:         pulumi.String(CachingDisabledPolicyID),
			OriginRequestPolicyId: pulumi.String(AllViewerExceptHostHeaderPolicyID),
			Compress:              pulumi.Bool(true),
		},
		OrderedCacheBehaviors: cloudfront.DistributionOrderedCacheBehaviorArray{
			cloudfront.DistributionOrderedCacheBehaviorArgs{
				PathPattern:          pulumi.String("/static/*"),
				TargetOriginId:       pulumi.String(assetsOrigin),
				ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
				AllowedMethods:       getHead,
				CachedMethods:        getHead,
				CachePolicyId:        staticPolicy,
				Compress:             pulumi.Bool(true),
			},
			// Writes to /v1/products pass through too (CloudFront caches GET and HEAD only).
			cloudfront.DistributionOrderedCacheBehaviorArgs{
				PathPattern:           pulumi.String("/v1/products*"),
				TargetOriginId:        pulumi.String(albOrigin),
				ViewerProtocolPolicy:  pulumi.String("redirect-to-https"),
				AllowedMethods:        allMethods,
				CachedMethods:         getHead,
				CachePolicyId:         apiPolicy,
				OriginRequestPolicyId: pulumi.String(AllViewerExceptHostHeaderPolicyID),
				Compress:              pulumi.Bool(true),
			},
		},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)},
		Tags:              tags("distribution"),
	}
	if a.DomainName != "" {
		var certOpts []pulumi.ResourceOption
		if a.CertificateProvider != nil {
			certOpts = append(certOpts, pulumi.Provider(a.CertificateProvider))
		}
		certARN, err := certificate(ctx, name, a.DomainName, a.HostedZoneID, tags, parent, certOpts...)
		if err != nil {
			return nil, err
		}
		distArgs.Aliases = pulumi.StringArray{pulumi.String(a.DomainName)}
		distArgs.ViewerCertificate = &cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      certARN,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		}
	}
	var distOpts []pulumi.ResourceOption
	if a.Logging {
		logs, err := privateBucket(ctx, name, "logs", "BucketOwnerPreferred", a.LogRetentionDays, tags, parent)
		if err != nil {
			return nil, err
		}
		distArgs.LoggingConfig = &cloudfront.DistributionLoggingConfigArgs{
			Bucket: logs.BucketDomainName, Prefix: pulumi.String("cloudfront/"), IncludeCookies: pulumi.Bool(false),
		}
		distOpts = append(distOpts, pulumi.DependsOn([]pulumi.Resource{logs.ownership}))
	}
	dist, err := cloudfront.NewDistribution(ctx, name+"-distribution", distArgs, append(distOpts, parent)...)
	if err != nil {
		return nil, err
	}
	c.DomainName, c.DistributionID, c.DistributionARN = dist.DomainName, dist.ID().ToStringOutput(), dist.Arn
	c.URL = pulumi.Sprintf("https://%s", dist.DomainName)

	// Only this distribution may read the assets, and only over TLS.
	if _, err := s3.NewBucketPolicy(ctx, name+"-assets-policy", &s3.BucketPolicyArgs{
		Bucket: assets.Bucket,
		Policy: pulumi.All(assets.Arn, dist.Arn).ApplyT(func(v []any) (string, error) {
			bucket, distribution := v[0].(string), v[1].(string)
			doc, err := json.Marshal(map[string]any{
				"Version": "2012-10-17",
				"Statement": []map[string]any{
					{
						"Sid": "CloudFrontReadsAssets", "Effect": "Allow",
						"Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
						"Action":    "s3:GetObject", "Resource": bucket + "/*",
						"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": distribution}},
					},
					tlsOnlyStatement("s3:*", bucket, bucket+"/*"),
				},
			})
			return string(doc), err
		}).(pulumi.StringOutput),
	}, parent, pulumi.DependsOn([]pulumi.Resource{assets.publicAccess})); err != nil {
		return nil, err
	}

	if a.DomainName != "" {
		c.URL = pulumi.Sprintf("https://%s", a.DomainName)
		for _, typ := range []string{"A", "AAAA"} {
			if _, err := route53.NewRecord(ctx, name+"-alias-"+typ, &route53.RecordArgs{
				ZoneId: pulumi.String(a.HostedZoneID),
				Name:   pulumi.String(a.DomainName),
				Type:   pulumi.String(typ),
				Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
					Name: dist.DomainName, ZoneId: dist.HostedZoneId, EvaluateTargetHealth: pulumi.Bool(false),
				}},
			}, parent); err != nil {
				return nil, err
			}
		}
	}

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"domainName":   c.DomainName,
		"url":          c.URL,
		"assetsBucket": c.AssetsBucket,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// cachePolicies creates the static-asset policy (cached a day to a year, nothing in the key) and the product
// API policy (the origin's Cache-Control decides, up to APICacheMaxAgeSeconds; the query string and the
// Authorization header are in the key, so a response for one caller is never served to another).
func cachePolicies(ctx *pulumi.Context, name string, a CDNArgs, parent pulumi.ResourceOrInvokeOption) (pulumi.StringOutput, pulumi.StringOutput, error) {
	type keyArgs = cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs
	static, err := cloudfront.NewCachePolicy(ctx, name+"-static", &cloudfront.CachePolicyArgs{
		Comment:    pulumi.String("scalestack static assets: long-lived, fingerprinted"),
		MinTtl:     pulumi.Int(86400),
		DefaultTtl: pulumi.Int(7 * 86400),
		MaxTtl:     pulumi.Int(365 * 86400),
		ParametersInCacheKeyAndForwardedToOrigin: &keyArgs{
			CookiesConfig:              &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
			HeadersConfig:              &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{HeaderBehavior: pulumi.String("none")},
			QueryStringsConfig:         &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("none")},
			EnableAcceptEncodingGzip:   pulumi.Bool(true),
			EnableAcceptEncodingBrotli: pulumi.Bool(true),
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	api, err := cloudfront.NewCachePolicy(ctx, name+"-products", &cloudfront.CachePolicyArgs{
		Comment:    pulumi.String("scalestack GET /v1/products*: as the origin's Cache-Control says"),
		MinTtl:     pulumi.Int(0),
		DefaultTtl: pulumi.Int(0), // no Cache-Control, no caching
		MaxTtl:     pulumi.Int(a.APICacheMaxAgeSeconds),
		ParametersInCacheKeyAndForwardedToOrigin: &keyArgs{
			CookiesConfig: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
			HeadersConfig: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{
				HeaderBehavior: pulumi.String("whitelist"),
				Headers: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs{
					Items: pulumi.ToStringArray([]string{"Authorization"}),
				},
			},
			QueryStringsConfig:         &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("all")},
			EnableAcceptEncodingGzip:   pulumi.Bool(true),
			EnableAcceptEncodingBrotli: pulumi.Bool(true),
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	return static.ID().ToStringOutput(), api.ID().ToStringOutput(), nil
}

// bucket is a private bucket with the children that make it so.
type bucket struct {
	*s3.BucketV2
	publicAccess *s3.BucketPublicAccessBlock
	ownership    *s3.BucketOwnershipControls
}

// privateBucket creates the bucket name-role with all public access blocked, the given object ownership (ACLs stay off
// with BucketOwnerEnforced; CloudFront's standard logs need BucketOwnerPreferred), SSE-S3 encryption and,
// when expireDays > 0, objects expiring after that many days.
func privateBucket(ctx *pulumi.Context, component, role, ownership string, expireDays int, tags func(string) pulumi.StringMap,
	parent pulumi.ResourceOrInvokeOption) (*bucket, error) {
	name := component + "-" + role
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{Tags: tags(role)}, parent)
	if err != nil {
		return nil, err
	}
	out := &bucket{BucketV2: b}
	if out.publicAccess, err = s3.NewBucketPublicAccessBlock(ctx, name+"-pab", &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent); err != nil {
		return nil, err
	}
	if out.ownership, err = s3.NewBucketOwnershipControls(ctx, name+"-ownership", &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String(ownership)},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-sse", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, parent); err != nil {
		return nil, err
	}
	if expireDays > 0 {
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
			Bucket: b.ID(),
			Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:         pulumi.String("expire"),
				Status:     pulumi.String("Enabled"),
				Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(expireDays)},
			}},
		}, parent); err != nil {
			return nil, err
		}
	}
	return out, nil
}
