package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/bench"
)

// Every name in this file starts with bench: package main is shared with
// the other subcommands.

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure signing and verification speed, and load-test a token endpoint",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchSignCmd(), newBenchTokenCmd(), newBenchVerifyCmd(), newBenchSeedCmd())
	return cmd
}

// benchRun runs one measurement until it ends or Ctrl-C, and prints its
// result for a person, or as JSON with -o json. It returns the result, for
// the caller to judge whether the run went well.
func benchRun[R any](cmd *cobra.Command, run func(context.Context) (R, error), print func(io.Writer, R)) (R, error) {
	var res R
	format, err := benchOutputFormat(cmd)
	if err != nil {
		return res, err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	if res, err = run(ctx); err != nil {
		return res, err
	}
	if format == "json" {
		return res, benchWriteJSON(cmd.OutOrStdout(), res)
	}
	print(cmd.OutOrStdout(), res)
	return res, nil
}

func newBenchSignCmd() *cobra.Command {
	var opts bench.SignOptions
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign access tokens on every core with gatehouse's signing code: the token endpoint's ceiling",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := benchRun(cmd, func(ctx context.Context) (bench.SignResult, error) { return bench.Sign(ctx, opts) }, benchPrintSign)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Alg, "alg", "RS256", "signing algorithm: RS256, ES256 or EdDSA")
	f.DurationVar(&opts.Duration, "duration", 10*time.Second, "how long to sign for")
	f.IntVar(&opts.Workers, "workers", 0, "signing goroutines (default GOMAXPROCS)")
	return cmd
}

func newBenchTokenCmd() *cobra.Command {
	var fl benchTokenFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Load-test POST /oauth/token with the client credentials grant",
		Long: `Load-test POST <url>/oauth/token with the client credentials grant.

The client authenticates with its secret in the body (--auth post, the
default), in HTTP Basic (--auth basic), in a JSON body (--auth json), or
with a client assertion signed with a PEM private key (--auth
private_key_jwt --key FILE [--alg ES256|RS256|EdDSA] [--kid ID]): the load
generator signs a new assertion, with a new jti, for every request. --dpop
adds a new DPoP proof (ES256, a key made for the run) to every request, so
every token is DPoP-bound. Signing happens in the workers, before each
request's latency clock starts.

By default every worker sends its next request as soon as its last one is
answered (closed loop). With --rate N, requests are sent at N per second
whatever the server does (open loop), and latency runs from each request's
intended send time, so a server that falls behind shows it in the
percentiles. Latency figures cover the token (200) answers.

The run fails (non-zero exit) when no request got a token, or with --verify
when any token's signature does not verify against <url>/.well-known/jwks.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := benchRun(cmd, func(ctx context.Context) (bench.TokenResult, error) {
				opts, err := fl.options()
				if err != nil {
					return bench.TokenResult{}, err
				}
				return bench.Token(ctx, opts)
			}, benchPrintToken)
			if err != nil {
				return err
			}
			return res.Err()
		},
	}
	fl.define(cmd)
	return cmd
}

// benchTokenFlags are the flags of bench token: the options themselves,
// and the flags that options() turns into some of them.
type benchTokenFlags struct {
	opts                bench.TokenOptions
	scopes              []string
	secretFile          string
	basic, post, asJSON bool
	auth, keyFile       string
	federated           string
}

func (fl *benchTokenFlags) define(cmd *cobra.Command) {
	f, o := cmd.Flags(), &fl.opts
	f.StringVar(&o.URL, "url", benchEnvOr("GATEHOUSE_URL", "http://127.0.0.1:8080"), "gatehouse base URL (env GATEHOUSE_URL)")
	f.StringVar(&o.ClientID, "client-id", "", "client id")
	f.StringVar(&o.ClientSecret, "client-secret", "", "client secret (or --client-secret-file, or env GATEHOUSE_CLIENT_SECRET)")
	f.StringVar(&fl.secretFile, "client-secret-file", "", "file holding the client secret")
	f.StringVar(&o.Audience, "audience", "", "audience to ask for (omit to use the server's default audience)")
	f.StringArrayVar(&fl.scopes, "scope", nil, "scope to ask for, repeatable (default: all granted)")
	f.IntVar(&o.Concurrency, "concurrency", 16, "workers, each with one keep-alive connection and at most one request in flight")
	f.Float64Var(&o.Rate, "rate", 0, "requests per second, open loop (default: closed loop, as fast as the workers go)")
	f.DurationVar(&o.Duration, "duration", 15*time.Second, "length of the measured run")
	f.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load before the run (0 skips it)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "timeout of one request")
	f.StringVar(&fl.auth, "auth", "", "client authentication: post (default), basic, json or private_key_jwt")
	f.BoolVar(&fl.basic, "basic", false, "authenticate with client_secret_basic (HTTP Basic), as --auth basic")
	f.BoolVar(&fl.post, "post", false, "authenticate with client_secret_post in a form body, as --auth post")
	f.BoolVar(&fl.asJSON, "json", false, "send the parameters, credentials included, as a JSON body, as --auth json")
	f.StringVar(&fl.keyFile, "key", "", "PEM private key (PKCS#8, EC or RSA) that signs the client assertions of --auth private_key_jwt")
	f.StringVar(&o.Alg, "alg", "", "algorithm of the client assertions: ES256, RS256 or EdDSA (default: by the key's type)")
	f.StringVar(&o.KeyID, "kid", "", "key id in the client assertions' header")
	f.BoolVar(&o.DPoP, "dpop", false, "send a new DPoP proof (ES256) with every request")
	f.StringVar(&fl.federated, "federated", "", "ES256 or RS256: send jwt-bearer grants, each with a new token of the bench's outside issuer signed with --key (bench seed --federated makes the trust)")
	f.BoolVar(&o.Verify, "verify", false, "verify every token's signature against the JWKS (costs client CPU)")
	cmd.MarkFlagsMutuallyExclusive("auth", "basic", "post", "json", "federated")
	cmd.MarkFlagsMutuallyExclusive("client-secret", "client-secret-file", "key")
	_ = cmd.MarkFlagRequired("client-id")
}

// options completes the options from the flags that are not options.
func (fl *benchTokenFlags) options() (bench.TokenOptions, error) {
	o := fl.opts
	o.Auth = bench.AuthMethod(fl.auth)
	switch {
	case fl.federated != "":
		o.Auth, o.Alg = bench.AuthFederated, fl.federated
	case fl.basic:
		o.Auth = bench.AuthBasic
	case fl.asJSON:
		o.Auth = bench.AuthJSON
	case fl.post:
		o.Auth = bench.AuthPost
	case fl.auth == "" && fl.keyFile != "":
		o.Auth = bench.AuthPrivateKeyJWT
	case fl.auth == "":
		o.Auth = bench.AuthPost
	}
	o.Scope = strings.Join(fl.scopes, " ")
	if o.Auth != bench.AuthPrivateKeyJWT && o.Auth != bench.AuthFederated {
		if fl.keyFile != "" || o.Alg != "" || o.KeyID != "" {
			return o, usageError("--key, --alg and --kid go with --auth private_key_jwt")
		}
		var err error
		o.ClientSecret, err = benchClientSecret(o.ClientSecret, fl.secretFile)
		return o, err
	}
	if fl.keyFile == "" {
		if o.Auth == bench.AuthFederated {
			return o, usageError("--federated needs --key FILE")
		}
		return o, usageError("--auth private_key_jwt needs --key FILE")
	}
	var err error
	o.Key, err = readPrivateKey(fl.keyFile)
	if err != nil {
		return o, fmt.Errorf("--key: %w", err)
	}
	return o, nil
}

func benchOutputFormat(cmd *cobra.Command) (string, error) {
	format, err := cmd.Flags().GetString("output")
	if err != nil {
		return "", err
	}
	if format != "text" && format != "json" {
		return "", fmt.Errorf("unknown output format %q (want text or json)", format)
	}
	return format, nil
}

func benchEnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// benchClientSecret takes the secret from the flag, else the file, else
// GATEHOUSE_CLIENT_SECRET.
func benchClientSecret(flag, file string) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading the client secret: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	case os.Getenv("GATEHOUSE_CLIENT_SECRET") != "":
		return os.Getenv("GATEHOUSE_CLIENT_SECRET"), nil
	}
	return "", fmt.Errorf("no client secret: give --client-secret, --client-secret-file or GATEHOUSE_CLIENT_SECRET")
}

func benchWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func benchPrintSign(w io.Writer, r bench.SignResult) {
	fmt.Fprintf(w, "bench sign: %s on %d workers (%d CPUs, %s), %s\n",
		r.Alg, r.Workers, r.CPUs, r.GoVersion, benchDuration(r.Elapsed))
	fmt.Fprintf(w, "  signatures   %d  (%.0f/s)\n", r.Signatures, r.PerSecond)
	fmt.Fprintf(w, "  latency      %s\n", benchLatency(r.Latency))
	fmt.Fprintf(w, "  token size   %d bytes\n", r.TokenBytes)
}

func benchPrintToken(w io.Writer, r bench.TokenResult) {
	auth := string(r.Auth)
	if r.AssertionAlg != "" {
		auth += " " + r.AssertionAlg
	}
	if r.DPoP {
		auth += " + DPoP"
	}
	fmt.Fprintf(w, "bench token: POST %s, %s, %s, %d workers, %s\n",
		r.URL, auth, r.Mode, r.Concurrency, benchDuration(r.Elapsed))
	fmt.Fprintf(w, "  tokens       %d of %d requests  (%.1f/s)\n", r.OK, r.Requests, r.TokensPerSecond)
	if r.Latency.Count > 0 {
		from := ""
		if r.OpenLoop != nil {
			from = "  (from intended send time)"
		}
		fmt.Fprintf(w, "  latency      %s%s\n", benchLatency(r.Latency), from)
	}
	for i, f := range r.Failures {
		label := "  failures   "
		if i > 0 {
			label = "             "
		}
		code := f.Error
		if code == "" {
			code = "(no error code)"
		}
		fmt.Fprintf(w, "%s  %d %s: %d\n", label, f.Status, code, f.Count)
	}
	fmt.Fprintf(w, "  transport errors  %d\n", r.TransportErrors)
	for _, e := range r.TransportKinds {
		fmt.Fprintf(w, "               %s: %d\n", e.Error, e.Count)
	}
	if o := r.OpenLoop; o != nil {
		fmt.Fprintf(w, "  schedule     %.0f/s: %d scheduled, %d sent, %d behind schedule (max lag %s), %d unsent\n",
			o.Rate, o.Scheduled, o.Sent, o.Behind, benchDuration(o.MaxLag), o.Unsent)
	}
	if v := r.Verification; v != nil {
		fmt.Fprintf(w, "  verified     %d, failed %d, JWKS fetched %d times\n", v.Verified, v.Failed, v.JWKSFetches)
	}
}

func benchLatency(s bench.Summary) string {
	return fmt.Sprintf("mean %s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		benchDuration(s.Mean), benchDuration(s.P50), benchDuration(s.P90),
		benchDuration(s.P99), benchDuration(s.P999), benchDuration(s.Max))
}

// benchDuration prints d with three or four significant digits.
func benchDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func newBenchVerifyCmd() *cobra.Command {
	var opts bench.VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify access tokens on every core with package verify and a cached key: a product API's cost per request",
		Long: `Verify access tokens on every core with package verify, as a product API's
middleware does for each request: an in-process issuer on a loopback port
publishes a throwaway key, tokens are signed with it as gatehouse signs
them, and one shared Verifier checks them (signature, iss, aud, exp) with
the key cached. Reports verifications per second and latency percentiles.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := benchRun(cmd, func(ctx context.Context) (bench.VerifyResult, error) { return bench.Verify(ctx, opts) }, benchPrintVerify)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Alg, "alg", "RS256", "signing algorithm of the tokens: RS256, ES256 or EdDSA")
	f.DurationVar(&opts.Duration, "duration", 10*time.Second, "how long to verify for")
	f.IntVar(&opts.Workers, "workers", 0, "verifying goroutines (default GOMAXPROCS)")
	return cmd
}

func benchPrintVerify(w io.Writer, r bench.VerifyResult) {
	fmt.Fprintf(w, "bench verify: %s on %d workers (%d CPUs, %s), %s\n",
		r.Alg, r.Workers, r.CPUs, r.GoVersion, benchDuration(r.Elapsed))
	fmt.Fprintf(w, "  verifications  %d  (%.0f/s)\n", r.Verifications, r.PerSecond)
	fmt.Fprintf(w, "  latency        %s\n", benchLatency(r.Latency))
	fmt.Fprintf(w, "  token size     %d bytes, JWKS fetched %d time(s)\n", r.TokenBytes, r.JWKSFetches)
}

func newBenchSeedCmd() *cobra.Command {
	var clients, concurrency int
	var tenant, auth, jwksFile string
	var grants []string
	cmd := &cobra.Command{
		Use:   "seed --clients 100000 --tenant ID [--grant 'AUDIENCE=SCOPE']... [--auth private_key_jwt --jwks-file F]",
		Short: "Fill a running gatehouse with clients through the admin API, to measure with a large store",
		Long: `Fill a running gatehouse with clients through the admin API, to measure the
token endpoint with a large store. The clients authenticate with secrets, or
with --auth private_key_jwt with the public keys of --jwks-file (a JWK Set,
{"keys":[...]}), sent as the clients' auth_method and jwks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fed, _ := cmd.Flags().GetBool("federated"); fed {
				c, err := apiClient(cmd)
				if err != nil {
					return err
				}
				return benchSeedTrust(cmd, c, tenant)
			}
			g, err := parseGrants(grants)
			if err != nil {
				return err
			}
			extra, err := benchSeedAuth(auth, jwksFile)
			if err != nil {
				return err
			}
			c, err := apiClient(cmd)
			if err != nil {
				return err
			}
			create := func(ctx context.Context, name, tenant string, grants map[string][]string) error {
				body := map[string]any{"name": name, "tenant": tenant, "grants": grants}
				maps.Copy(body, extra)
				return c.Do(ctx, "POST", "/admin/v1/clients", body, nil)
			}
			start := time.Now()
			n, err := bench.Seed(cmd.Context(), bench.SeedOptions{Clients: clients, Concurrency: concurrency, Tenant: tenant, Grants: g, Create: create})
			fmt.Fprintf(cmd.OutOrStdout(), "created %d clients in %s\n", n, time.Since(start).Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().IntVar(&clients, "clients", 100_000, "how many clients to create")
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "create requests in flight")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant that owns them (must exist)")
	cmd.Flags().StringArrayVar(&grants, "grant", nil, "'AUDIENCE=SCOPE SCOPE' each client gets (repeatable)")
	cmd.Flags().StringVar(&auth, "auth", "", "how the clients authenticate: client_secret (default) or private_key_jwt")
	cmd.Flags().StringVar(&jwksFile, "jwks-file", "", "JWK Set file with the public keys of --auth private_key_jwt clients")
	cmd.Flags().String("url", "", "gatehouse admin URL (env GATEHOUSE_URL, default http://127.0.0.1:8080)")
	cmd.Flags().String("credentials", "", "admin credentials file (env GATEHOUSE_CREDENTIALS, default ./gatehouse-data/admin-client.json)")
	benchSeedFederatedFlags(cmd.Flags())
	return cmd
}

// benchSeedAuth returns the fields a seeded client's create request adds
// for auth: nothing for secrets; for private_key_jwt the auth_method and
// the JWK Set of jwksFile, checked to be one.
func benchSeedAuth(auth, jwksFile string) (map[string]any, error) {
	if auth == "" && jwksFile != "" {
		auth = "private_key_jwt"
	}
	switch auth {
	case "", "client_secret":
		if jwksFile != "" {
			return nil, usageError("--jwks-file goes with --auth private_key_jwt")
		}
		return nil, nil
	case "private_key_jwt":
	default:
		return nil, fmt.Errorf("--auth %q: want client_secret or private_key_jwt", auth)
	}
	if jwksFile == "" {
		return nil, usageError("--auth private_key_jwt needs --jwks-file F")
	}
	raw, err := os.ReadFile(jwksFile)
	if err != nil {
		return nil, fmt.Errorf("--jwks-file: %w", err)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("--jwks-file %s: want a JWK Set, {\"keys\":[...]} with at least one key", jwksFile)
	}
	return map[string]any{"auth_method": auth, "jwks": json.RawMessage(raw)}, nil
}
