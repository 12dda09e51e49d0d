// The injection webhook's HTTPS endpoint, on every replica (the Service spreads the API server's calls): POST
// /inject takes an AdmissionReview and answers with admission.ts's decision. Its certificate is the operator's
// serving certificate from Weft's own CA; a renewal or a CA rotation swaps the TLS context of the running server.
import type { Server } from 'node:https';
import { https } from '../net/builtins.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Runnable } from '../controllers/index.js';
import type { ServingCertificate } from '../ca/serving.js';
import { review, type AdmissionReview } from './admission.js';
import { INJECT_PATH } from './names.js';
import type { InjectionOptions } from './template.js';


export interface WebhookServerOptions extends InjectionOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  log: Logger;
}

export class WebhookServer implements Runnable {
  readonly needLeaderElection = false;
  private server: Server | undefined;

  constructor(
    private readonly certificate: ServingCertificate,
    private readonly options: WebhookServerOptions,
  ) {}

  /** The bound port, once listening. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await this.certificate.ready(signal))) return;
    const { log } = this.options;
    const server = https.createServer((req, res) => {
      const reply = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'https://webhook').pathname !== INJECT_PATH) return reply(404, { error: `POST an AdmissionReview to ${INJECT_PATH}` });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: AdmissionReview;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString()) as AdmissionReview;
        } catch (err) {
          return reply(400, { error: `not an AdmissionReview: ${(err as Error).message}` });
        }
        if (!body.request?.uid) return reply(400, { error: 'not an AdmissionReview: request.uid is missing' });
        const response = review(body.request, this.options);
        log.debug({ uid: response.uid, namespace: body.request.namespace, allowed: response.allowed, patched: response.patch !== undefined }, 'admission review');
        reply(200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
      });
    });
    this.server = server;
    const listener = (update: { certificate: Buffer; privateKey: Buffer } | null) => {
      if (update) server.setSecureContext({ cert: update.certificate, key: update.privateKey });
    };
    // The first update arrives before listen: the server never answers without a certificate.
    const first = new Promise<void>((resolve) => {
      this.certificate.addIdentityCertificateListener((update) => {
        listener(update);
        resolve();
      });
    });
    await first;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    log.info({ port: this.port }, 'injection webhook listening (HTTPS)');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
