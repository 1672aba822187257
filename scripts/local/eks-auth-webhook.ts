import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { z } from 'zod';
import { loadAccessEntries, motoCallerIdentity, reviewEksToken } from './token-review.ts';

/**
 * The embedded environment's EKS authenticator: an HTTPS TokenReview webhook on 127.0.0.1 that
 * kube-apiserver calls (--authentication-token-webhook-config-file) for every bearer token it
 * does not know. Started as a daemon by scripts/local/k8s.ts; configured through environment.
 */
const settings = z
  .object({
    M2_WEBHOOK_PORT: z.coerce.number().int().positive(),
    M2_WEBHOOK_CERT: z.string().min(1),
    M2_WEBHOOK_KEY: z.string().min(1),
    M2_WEBHOOK_CLUSTER_NAME: z.string().min(1),
    /** Comma-separated origins a token may be presigned for (the moto endpoint). */
    M2_WEBHOOK_STS_ORIGINS: z.string().min(1),
    M2_WEBHOOK_ACCESS_ENTRIES: z.string().min(1),
  })
  .parse(process.env);

const accessEntries = loadAccessEntries(settings.M2_WEBHOOK_ACCESS_ENTRIES);
const allowedStsOrigins = settings.M2_WEBHOOK_STS_ORIGINS.split(',').map((o) => new URL(o.trim()).origin);

const tokenReviewSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal('TokenReview'),
  spec: z.object({ token: z.string() }),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Reported to the caller as "not a TokenReview".
    return undefined;
  }
}

const server = createServer(
  { cert: readFileSync(settings.M2_WEBHOOK_CERT), key: readFileSync(settings.M2_WEBHOOK_KEY) },
  (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = tokenReviewSchema.safeParse(parseJson(Buffer.concat(chunks).toString('utf8')));
      if (!parsed.success) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not a TokenReview"}');
        return;
      }
      reviewEksToken(parsed.data.spec.token, {
        clusterName: settings.M2_WEBHOOK_CLUSTER_NAME,
        allowedStsOrigins,
        accessEntries,
        now: () => new Date(),
        callerIdentity: motoCallerIdentity,
      }).then(
        (outcome) => {
          // Identifiers only; never the token.
          console.log(
            new Date().toISOString(),
            outcome.authenticated ? `authenticated ${outcome.user.username}` : `refused: ${outcome.error}`,
          );
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(
              JSON.stringify({ apiVersion: parsed.data.apiVersion, kind: 'TokenReview', status: outcome }),
            );
        },
        (error: unknown) => {
          console.error(new Date().toISOString(), 'review failed', error);
          res.writeHead(500).end();
        },
      );
    });
  },
);

server.listen(settings.M2_WEBHOOK_PORT, '127.0.0.1', () => {
  console.log(`eks-auth webhook listening on https://127.0.0.1:${settings.M2_WEBHOOK_PORT}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => server.close(() => process.exit(0)));
