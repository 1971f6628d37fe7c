// m2m.mjs: a machine-to-machine client of gatehouse written the way an
// openid-client user would write it, with nothing gatehouse-specific: it
// discovers the issuer, authenticates with private_key_jwt (RFC 7523) and
// asks for client_credentials tokens, plain and DPoP-bound (RFC 9449).
//
// Environment:
//   ISSUER     gatehouse's issuer identifier (required); an http:// issuer
//              is allowed (allowInsecureRequests) since tests run on loopback
//   CLIENT_ID  the client (required), registered with auth_method
//              private_key_jwt and the public half of the key below
//   KEY_FILE   a file holding the client's private JWK (with its kid), or
//   KEY_JWK    the private JWK itself
//   AUDIENCE   sent as the audience parameter (optional)
//   SCOPE      sent as the scope parameter (optional)
//   DPOP=1     also ask for a DPoP-bound token, with a fresh key
//   DPOP_ALG   that key's JWS algorithm (randomDPoPKeyPair's), ES256 unless set
//   DISCOVERY  "oidc" (/.well-known/openid-configuration, the default) or
//              "oauth2" (/.well-known/oauth-authorization-server)
//
// It prints one JSON document on stdout and exits 0 only when every grant
// succeeded and its token is what was asked for (a DPoP token names the
// proof key's RFC 7638 thumbprint in cnf.jkt, a plain one has no cnf);
// anything else goes to stderr with a non-zero exit.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import * as client from 'openid-client'

function env(name, required = false) {
  const v = process.env[name]
  if (required && !v) throw new Error(`${name} is not set`)
  return v || undefined
}

// The client's private key, from a JWK: WebCrypto imports it; the kid
// goes into the assertion's header, as gatehouse finds the key by it.
async function clientKey() {
  const text = env('KEY_JWK') ?? (env('KEY_FILE') && readFileSync(env('KEY_FILE'), 'utf8'))
  if (!text) throw new Error('KEY_FILE or KEY_JWK is not set')
  const jwk = JSON.parse(text)
  if (!jwk.d) throw new Error('the client key is not a private JWK')
  const algs = {
    EC: { name: 'ECDSA', namedCurve: jwk.crv },
    OKP: { name: 'Ed25519' },
    RSA: { name: jwk.alg === 'PS256' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  }
  const alg = algs[jwk.kty]
  if (!alg) throw new Error(`unsupported key type ${jwk.kty}`)
  const { kid, alg: _a, use: _u, key_ops: _k, ...material } = jwk
  const key = await crypto.subtle.importKey('jwk', material, alg, false, ['sign'])
  return { key, kid }
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK.
function thumbprint(jwk) {
  const members = {
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
    RSA: ['e', 'kty', 'n'],
  }[jwk.kty]
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])))
  return createHash('sha256').update(canonical).digest('base64url')
}

// claims decodes a JWT access token's payload (null for an opaque token).
function claims(token) {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
}

// exchanges records every HTTP exchange openid-client makes, so that a
// caller can see the DPoP nonce round trip (a 400 use_dpop_nonce, then
// the retry) rather than take it on trust.
const exchanges = []
async function recordingFetch(url, options) {
  const res = await fetch(url, options)
  const e = { method: options?.method ?? 'GET', url: String(url), status: res.status }
  const headers = new Headers(options?.headers)
  if (headers.has('dpop')) e.dpop_proof = true
  if (res.headers.has('dpop-nonce')) e.dpop_nonce = true
  if (res.status >= 400) {
    try {
      e.error = (await res.clone().json()).error
    } catch {}
  }
  exchanges.push(e)
  return res
}

async function main() {
  const issuer = new URL(env('ISSUER', true))
  const clientId = env('CLIENT_ID', true)
  const discovery = env('DISCOVERY') ?? 'oidc'
  const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : []

  const config = await client.discovery(issuer, clientId, undefined, client.PrivateKeyJwt(await clientKey()), {
    algorithm: discovery,
    execute,
    [client.customFetch]: recordingFetch,
    timeout: 10,
  })
  const md = config.serverMetadata()

  const params = {}
  if (env('AUDIENCE')) params.audience = env('AUDIENCE')
  if (env('SCOPE')) params.scope = env('SCOPE')

  const results = []
  const grant = async (dpopKeys) => {
    const options = dpopKeys ? { DPoP: client.getDPoPHandle(config, dpopKeys) } : undefined
    const tokens = await client.clientCredentialsGrant(config, params, options)
    const c = claims(tokens.access_token)
    const r = {
      dpop: !!dpopKeys,
      token_type: tokens.token_type,
      scope: tokens.scope,
      expires_in: tokens.expires_in,
      jwt: c !== null,
      cnf_jkt: c?.cnf?.jkt ?? null,
    }
    if (dpopKeys) {
      r.dpop_jkt = thumbprint(await crypto.subtle.exportKey('jwk', dpopKeys.publicKey))
    }
    results.push(r)
    return r
  }

  const failures = []
  const plain = await grant(null)
  if (plain.token_type?.toLowerCase() !== 'bearer') failures.push(`plain grant: token_type ${plain.token_type}`)
  if (plain.cnf_jkt !== null) failures.push('plain grant: the token has cnf.jkt')

  if (env('DPOP') === '1') {
    const bound = await grant(await client.randomDPoPKeyPair(env('DPOP_ALG') ?? 'ES256'))
    if (bound.token_type?.toLowerCase() !== 'dpop') failures.push(`DPoP grant: token_type ${bound.token_type}`)
    if (!bound.jwt) failures.push('DPoP grant: the access token is not a JWT, cnf.jkt cannot be read')
    else if (bound.cnf_jkt !== bound.dpop_jkt) {
      failures.push(`DPoP grant: cnf.jkt ${bound.cnf_jkt} is not the proof key's thumbprint ${bound.dpop_jkt}`)
    }
  }

  const out = {
    issuer: md.issuer,
    discovery,
    token_endpoint: md.token_endpoint,
    token_endpoint_auth_methods_supported: md.token_endpoint_auth_methods_supported,
    dpop_signing_alg_values_supported: md.dpop_signing_alg_values_supported,
    results,
    exchanges,
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n')
  if (failures.length) throw new Error(failures.join('; '))
}

main().catch((err) => {
  // openid-client's errors carry the server's answer in cause or error
  // fields: show them, as they are what a gatehouse bug would look like.
  const detail = { message: err?.message ?? String(err) }
  for (const k of ['code', 'error', 'error_description', 'status']) {
    if (err?.[k] !== undefined) detail[k] = err[k]
  }
  if (err?.cause !== undefined) {
    detail.cause = err.cause instanceof Error ? { message: err.cause.message, code: err.cause.code } : err.cause
  }
  detail.exchanges = exchanges
  process.stderr.write('m2m: ' + JSON.stringify(detail, null, 2) + '\n')
  process.exit(1)
})
