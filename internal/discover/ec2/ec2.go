// Package ec2 lists running EC2 instances for nix-hive's discovery.
//
// [Reader] uses the AWS SDK's standard configuration: credentials from the
// environment (AWS_ACCESS_KEY_ID, ...), the shared config and credentials
// files (AWS_PROFILE), a web identity token (AWS_ROLE_ARN with
// AWS_WEB_IDENTITY_TOKEN_FILE, as aws-actions/configure-aws-credentials
// sets up with GitHub's OIDC), SSO, or the instance metadata service; the
// source's region; and the SDK's endpoint override AWS_ENDPOINT_URL_EC2
// (or AWS_ENDPOINT_URL). It needs the IAM permission ec2:DescribeInstances.
package ec2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/nix-hive/nix-hive/internal/discover"
)

// Errors a [Reader] wraps, for errors.Is.
var (
	// ErrCredentials: no AWS credentials were found, or AWS refused them.
	ErrCredentials = errors.New("AWS credentials missing or refused")
	// ErrDenied: the credentials may not call DescribeInstances.
	ErrDenied = errors.New("not allowed to describe EC2 instances")
	// ErrUnreachable: the EC2 endpoint could not be reached.
	ErrUnreachable = errors.New("EC2 endpoint unreachable")
)

// DefaultPageSize is the MaxResults of each DescribeInstances call.
const DefaultPageSize = 1000

// Reader lists a source's running EC2 instances with one paginated
// DescribeInstances: the source's filters plus instance-state-name=running.
type Reader struct {
	// PageSize is DescribeInstances' MaxResults (5 to 1000); 0 means
	// DefaultPageSize.
	PageSize int
	// LoadOptions are added to config.LoadDefaultConfig's, after the
	// source's region.
	LoadOptions []func(*config.LoadOptions) error
}

var _ discover.Reader = Reader{}

// Machines implements [discover.Reader].
func (r Reader) Machines(ctx context.Context, src discover.Source) ([]discover.Machine, error) {
	if src.EC2 == nil {
		return nil, fmt.Errorf("not an ec2 source")
	}
	opts := append([]func(*config.LoadOptions) error{config.WithRegion(src.EC2.Region)}, r.LoadOptions...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration (AWS_PROFILE, AWS_CONFIG_FILE, AWS_* variables): %w", err)
	}
	if err := checkCredentials(ctx, cfg); err != nil {
		return nil, err
	}
	client := ec2.NewFromConfig(cfg)
	endpoint := "https://ec2." + src.EC2.Region + ".amazonaws.com"
	if e := client.Options().BaseEndpoint; e != nil {
		endpoint = *e
	}

	pageSize := r.PageSize
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	input := &ec2.DescribeInstancesInput{Filters: Filters(src.EC2.Filters), MaxResults: aws.Int32(int32(pageSize))}
	var machines []discover.Machine
	pages := ec2.NewDescribeInstancesPaginator(client, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, explain(ctx, err, endpoint)
		}
		for _, res := range page.Reservations {
			for _, inst := range res.Instances {
				machines = append(machines, Machine(inst))
			}
		}
	}
	return machines, nil
}

// Filters turns a source's filters into DescribeInstances filters, in
// name order, plus instance-state-name=running.
func Filters(filters map[string][]string) []types.Filter {
	out := make([]types.Filter, 0, len(filters)+1)
	for name, values := range filters {
		out = append(out, types.Filter{Name: aws.String(name), Values: values})
	}
	out = append(out, types.Filter{Name: aws.String("instance-state-name"), Values: []string{"running"}})
	slices.SortFunc(out, func(a, b types.Filter) int { return strings.Compare(*a.Name, *b.Name) })
	return out
}

// Machine maps an EC2 instance to a [discover.Machine].
func Machine(inst types.Instance) discover.Machine {
	m := discover.Machine{
		ID:         aws.ToString(inst.InstanceId),
		PrivateIP:  aws.ToString(inst.PrivateIpAddress),
		PublicIP:   aws.ToString(inst.PublicIpAddress),
		PrivateDNS: aws.ToString(inst.PrivateDnsName),
		PublicDNS:  aws.ToString(inst.PublicDnsName),
		Tags:       make(map[string]string, len(inst.Tags)),
	}
	if inst.State != nil {
		m.State = string(inst.State.Name)
	}
	for _, t := range inst.Tags {
		m.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// checkCredentials fetches the credentials before the first request, so
// that a missing or broken credential chain gets its own message.
func checkCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return fmt.Errorf("%w: no credential source is configured", ErrCredentials)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: none could be loaded from the environment (AWS_ACCESS_KEY_ID), the shared files (AWS_PROFILE), "+
			"a web identity token (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) or the instance metadata; "+
			"in GitHub Actions, run aws-actions/configure-aws-credentials first: %w", ErrCredentials, err)
	}
	return nil
}

// Error is a failed read, phrased for the user; errors.Is matches its
// Kind (ErrCredentials, ErrDenied, ErrUnreachable) and the SDK's error.
type Error struct {
	// Kind is one of the package's Err values, or nil.
	Kind error
	// Endpoint is the EC2 endpoint the reader called.
	Endpoint string
	// Detail is what went wrong (the API error code and message, or the
	// network error).
	Detail string
	// Hint is what to do about it.
	Hint string
	// Err is the SDK's error.
	Err error
}

// Error says what failed, where, and what to do:
// "EC2 endpoint unreachable: https://...: dial tcp ...; check the network ...".
func (e *Error) Error() string {
	msg := "describe instances"
	if e.Kind != nil {
		msg = e.Kind.Error()
	}
	return fmt.Sprintf("%s: %s: %s; %s", msg, e.Endpoint, e.Detail, e.Hint)
}

// Unwrap returns Kind and Err.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// explain turns a DescribeInstances error into one that says what to do.
func explain(ctx context.Context, err error, endpoint string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("describe instances: %w", ctx.Err())
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		e := &Error{Endpoint: endpoint, Detail: api.ErrorCode() + ": " + strings.TrimSuffix(api.ErrorMessage(), "."), Err: err,
			Hint: "the request was refused; check the filters and the region"}
		switch api.ErrorCode() {
		case "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature",
			"MissingAuthenticationToken", "UnrecognizedClientException", "InvalidAccessKeyId":
			e.Kind, e.Hint = ErrCredentials, "check the access key id and secret key, or the role nix-hive assumes"
		case "ExpiredToken", "RequestExpired", "ExpiredTokenException":
			e.Kind, e.Hint = ErrCredentials, "get fresh credentials (and check the clock)"
		case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
			e.Kind, e.Hint = ErrDenied, "allow ec2:DescribeInstances in the IAM policy of the user or role"
		}
		return e
	}
	var send *smithyhttp.RequestSendError
	var netErr net.Error
	if errors.As(err, &send) || errors.As(err, &netErr) {
		e := &Error{Kind: ErrUnreachable, Endpoint: endpoint, Detail: err.Error(), Err: err,
			Hint: "check the network and the region, and AWS_ENDPOINT_URL_EC2 if it is set"}
		var op *net.OpError
		if errors.As(err, &op) {
			e.Detail = op.Error()
		}
		return e
	}
	return &Error{Endpoint: endpoint, Detail: err.Error(), Err: err, Hint: "check the region and the filters"}
}
