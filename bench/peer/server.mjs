// The benchmark peer: oidc-provider (OpenID Certified) with the same client, algorithm (ES256) and token
// formats as our IdP (JWT access tokens, opaque rotating refresh tokens), one worker per CPU like ours,
// state in Redis so that every worker sees every token. Usage: node server.mjs <port> <redis url> <jwks file>
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { createClient } from "redis";
import Provider from "oidc-provider";

const [port, redisUrl, jwksFile, workers] = process.argv.slice(2);

if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers || availableParallelism()); i++) cluster.fork();
} else {
  const redis = createClient({ url: redisUrl });
  await redis.connect();

  class RedisAdapter {
    constructor(name) { this.name = name; }
    key(id) { return `peer:${this.name}:${id}`; }
    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = redis.multi().set(key, JSON.stringify(payload), { EX: expiresIn });
      if (payload.grantId) multi.rPush(`peer:grant:${payload.grantId}`, key).expire(`peer:grant:${payload.grantId}`, expiresIn);
      if (payload.uid) multi.set(`peer:uid:${payload.uid}`, id, { EX: expiresIn });
      await multi.exec();
    }
    async find(id) { const data = await redis.get(this.key(id)); return data ? JSON.parse(data) : undefined; }
    async findByUid(uid) { const id = await redis.get(`peer:uid:${uid}`); return id ? this.find(id) : undefined; }
    async findByUserCode() { return undefined; }
    async destroy(id) { await redis.del(this.key(id)); }
    async revokeByGrantId(grantId) {
      const keys = await redis.lRange(`peer:grant:${grantId}`, 0, -1);
      if (keys.length) await redis.del(keys);
      await redis.del(`peer:grant:${grantId}`);
    }
    async consume(id) {
      const data = await this.find(id);
      if (data) { data.consumed = Math.floor(Date.now() / 1000); await redis.set(this.key(id), JSON.stringify(data), { KEEPTTL: true }); }
    }
  }

  const resource = "https://graph.microsoft.com";
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    adapter: RedisAdapter,
    jwks: JSON.parse(readFileSync(jwksFile, "utf8")),
    clients: [{
      client_id: "bench", client_secret: "bench-secret", redirect_uris: ["http://127.0.0.1/cb"],
      grant_types: ["authorization_code", "refresh_token", "client_credentials"], response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic", id_token_signed_response_alg: "ES256", scope: "openid offline_access",
    }],
    scopes: ["openid", "offline_access"],
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: {
      clientCredentials: { enabled: true }, introspection: { enabled: true }, revocation: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true, defaultResource: () => resource, useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: "", audience: resource, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } }),
      },
    },
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, ClientCredentials: 3600, RefreshToken: 90 * 86400, Grant: 90 * 86400 },
  });
  provider.proxy = true;

  // Benchmark set-up only: mint a refresh token as a completed sign-in would (the peer's interactive login is
  // not what is measured). Bound to 127.0.0.1 and never part of a real deployment.
  const mint = async () => {
    const client = await provider.Client.find("bench");
    const grant = new provider.Grant({ accountId: "alice", clientId: "bench" });
    grant.addOIDCScope("openid offline_access");
    grant.addResourceScope(resource, "");
    const grantId = await grant.save();
    const now = Math.floor(Date.now() / 1000);
    const token = new provider.RefreshToken({ accountId: "alice", client, grantId, scope: "openid offline_access",
      gty: "authorization_code", authTime: now, iiat: now, rotations: 0, resource, sessionUid: "bench" });
    return token.save();
  };
  provider.use(async (ctx, next) => {
    if (ctx.path === "/bench/refresh-token") { ctx.body = { refresh_token: await mint() }; return; }
    return next();
  });
  provider.listen(Number(port), "127.0.0.1");
}
