// The CA's Prometheus metrics: when each certificate the mesh depends on expires (alert well before!), and how
// certificate requests fare. Expiry gauges are computed at scrape time from what the replica holds.
import { createHash, X509Certificate } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { certificateExpiry } from './certificate.js';
import type { CaStore } from './store.js';

export type RequestResult = 'issued' | 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'unavailable' | 'resource_exhausted';

export class CaMetrics {
  private readonly requests: Counter<'result'>;
  private readonly duration: Histogram<'result'>;
  private readonly refused: Counter;
  private servingExpiry: number | undefined;

  constructor(registry: Registry, store: CaStore) {
    this.requests = new Counter({
      name: 'weft_ca_certificate_requests_total',
      help: 'CreateCertificate requests by result',
      labelNames: ['result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'weft_ca_certificate_request_duration_seconds',
      help: 'CreateCertificate latency (authentication, CSR check, signing)',
      labelNames: ['result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'weft_tls_connections_refused_total',
      help: 'Connections to the TLS port (CA and xDS) closed as soon as accepted: their peer (IP) held too many',
      registers: [registry],
    });
    const getServingExpiry = (): number | undefined => this.servingExpiry;
    new Gauge({
      name: 'weft_ca_certificate_expiry_timestamp_seconds',
      help: 'When a certificate expires (Unix seconds): every trusted root (by fingerprint), the signing intermediate, this replica\'s serving certificate',
      labelNames: ['certificate', 'fingerprint'],
      registers: [registry],
      collect(): void {
        this.reset();
        const authority = store.current();
        if (authority) {
          this.set({ certificate: 'intermediate', fingerprint: shortFingerprint(authority.material.certificate) }, authority.notAfter / 1000);
          for (const pem of authority.material.trustBundle) {
            const root = new X509Certificate(pem);
            this.set({ certificate: 'root', fingerprint: shortFingerprint(root) }, certificateExpiry(root) / 1000);
          }
        }
        const serving = getServingExpiry();
        if (serving !== undefined) this.set({ certificate: 'serving', fingerprint: '' }, serving / 1000);
      },
    });
  }

  observeRequest(result: RequestResult, seconds: number): void {
    this.requests.inc({ result });
    this.duration.observe({ result }, seconds);
  }

  connectionRefused(): void {
    this.refused.inc();
  }

  setServingExpiry(notAfter: number): void {
    this.servingExpiry = notAfter;
  }
}

function shortFingerprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex').slice(0, 16);
}
