package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/adminclient"
	"github.com/gatehouse/gatehouse/internal/bench"
)

// benchSeedTrustName is the trust `bench seed --federated` creates.
const benchSeedTrustName = "bench-federated"

// benchSeedFederatedFlags are the flags of `bench seed --federated`.
func benchSeedFederatedFlags(fs *pflag.FlagSet) {
	fs.Bool("federated", false, "create the trust of `bench token --federated` instead of clients: the bench issuer with --key's public key, one rule to --client-id")
	fs.String("key", "", "PEM private key of the bench's outside issuer (EC P-256 for ES256, RSA for RS256)")
	fs.String("client-id", "", "the client the trust's rule maps the bench tokens to")
}

// benchSeedTrust creates the trust a federated run needs, through the
// admin API, and says how to run it.
func benchSeedTrust(cmd *cobra.Command, c *adminclient.Client, tenant string) error {
	keyFile, _ := cmd.Flags().GetString("key")
	clientID, _ := cmd.Flags().GetString("client-id")
	if keyFile == "" || clientID == "" || tenant == "" {
		return usageError("bench seed --federated needs --tenant, --key FILE and --client-id ID")
	}
	key, err := readPrivateKey(keyFile)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	body, err := bench.SeedTrust(benchSeedTrustName, key, clientID)
	if err != nil {
		return err
	}
	if err := c.Do(cmd.Context(), "POST", adminclient.Path("admin", "v1", "tenants", tenant, "trusts"), body, nil); err != nil {
		return fmt.Errorf("creating trust %s/%s: %w", tenant, benchSeedTrustName, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "created trust %s/%s: issuer %s, rule bench -> %s\nrun: gatehouse bench token --federated ES256|RS256 --key %s --client-id %s --audience AUD\n",
		tenant, benchSeedTrustName, bench.FederatedIssuer, clientID, keyFile, clientID)
	return nil
}
