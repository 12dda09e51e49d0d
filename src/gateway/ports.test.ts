import { describe, expect, it } from '@jest/globals';
import { servicePorts } from './ports.js';

describe('servicePorts', () => {
  it("names each port by the protocol Weft serves it as: Istio's names in any case give valid Service port names", () => {
    const ports = servicePorts([
      { port: { number: 80, name: 'web', protocol: 'http_proxy' }, hosts: ['*'] },
      { port: { number: 443, name: 'secure', protocol: 'https' }, hosts: ['a.example.com'], tls: { mode: 'PASSTHROUGH' } },
      { port: { number: 443, name: 'secure-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'PASSTHROUGH' } },
      { port: { number: 3306, name: 'db', protocol: 'MySQL', targetPort: 13306 }, hosts: ['*'] },
    ]);
    expect(ports).toEqual([
      { name: 'http-80', port: 80, targetPort: 80 },
      { name: 'https-443', port: 443, targetPort: 443 },
      { name: 'tcp-3306', port: 3306, targetPort: 13306 },
    ]);
  });
});
