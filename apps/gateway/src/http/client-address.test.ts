import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, DEFAULT_TRUSTED_PROXIES, TrustedProxies } from './client-address';

const req = (remoteAddress: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('the client address', () => {
  const balancers = new TrustedProxies(DEFAULT_TRUSTED_PROXIES);

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress(req('203.0.113.9', '1.2.3.4'), balancers)).toBe('203.0.113.9');
    expect(clientAddress(req('::ffff:203.0.113.9'), balancers)).toBe('203.0.113.9');
  });

  it('is the right-most untrusted hop behind trusted proxies, so a forged left part changes nothing', () => {
    expect(clientAddress(req('127.0.0.1', '198.51.100.4'), balancers)).toBe('198.51.100.4');
    expect(clientAddress(req('10.0.0.5', 'forged-1.1.1.1, 198.51.100.4, 10.0.0.9'), balancers)).toBe(
      '198.51.100.4',
    );
    expect(clientAddress(req('10.0.0.5', '6.6.6.6, 198.51.100.4'), balancers)).toBe('198.51.100.4');
    // A trusted proxy without the header: the proxy itself is all we know.
    expect(clientAddress(req('10.0.0.5'), balancers)).toBe('10.0.0.5');
  });

  it('trusts only what it is told to', () => {
    const none = new TrustedProxies([]);
    expect(clientAddress(req('127.0.0.1', '198.51.100.4'), none)).toBe('127.0.0.1');
    const one = new TrustedProxies(['192.0.2.7', '2001:db8::/32']);
    expect(one.trusts('192.0.2.7')).toBe(true);
    expect(one.trusts('192.0.2.8')).toBe(false);
    expect(one.trusts('2001:db8::1')).toBe(true);
    expect(one.trusts('10.0.0.1')).toBe(false);
  });
});
