import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { AccessPolicy } from './access';
import { bearerCheck } from './bearer';
import { clientAddress, TrustedProxies } from './client-address';
import { HostPolicy } from './host';
import { originAllowed } from './origin';

const req = (headers: Record<string, string | undefined>) => ({ headers }) as unknown as IncomingMessage;

describe('the Host a gateway serves', () => {
  it('serves localhost names and IP addresses, nothing else by default', () => {
    const hosts = new HostPolicy({});
    for (const host of [
      'localhost',
      'LOCALHOST:3000',
      'app.localhost',
      '127.0.0.1:80',
      '[::1]:3000',
      ' 10.1.2.3 ',
    ])
      expect(hosts.allows(host)).toBe(true);
    for (const host of [
      undefined,
      '',
      'evil.example',
      'localhost.evil.example',
      '[::1',
      'a b',
      'host:port',
      'evil.example:80x',
    ])
      expect(hosts.allows(host)).toBe(false);
  });

  it('serves the public URL’s host and the allowed names, exact or by subdomain', () => {
    const hosts = new HostPolicy({
      publicUrl: 'https://Chat.Example.com/app',
      allowedHosts: ['Other.example', '*.Corp.example'],
    });
    expect(hosts.allows('chat.example.com')).toBe(true);
    expect(hosts.allows('chat.example.com:443')).toBe(true);
    expect(hosts.allows('other.example')).toBe(true);
    expect(hosts.allows('a.corp.example')).toBe(true);
    expect(hosts.allows('corp.example')).toBe(false);
    expect(hosts.allows('xcorp.example')).toBe(false);
    expect(hosts.allows('www.chat.example.com')).toBe(false);
    expect(new HostPolicy({ allowedHosts: ['*'] }).allows(undefined)).toBe(true);
  });
});

describe('the Origin a browser connects from', () => {
  it('lets non-browser clients (no Origin) in', () => {
    expect(originAllowed(req({ host: 'a' }), undefined)).toBe(true);
    expect(originAllowed(req({ host: 'a' }), [])).toBe(true);
  });

  it('takes only the listed origins, or any with *', () => {
    expect(originAllowed(req({ origin: 'https://a.example' }), ['https://a.example'])).toBe(true);
    expect(originAllowed(req({ origin: 'https://b.example' }), ['https://a.example'])).toBe(false);
    expect(originAllowed(req({ origin: 'https://b.example' }), ['*'])).toBe(true);
  });

  it('without a list, takes pages of the same host over http or https only', () => {
    const same = (origin: string, scheme?: 'http:' | 'https:') =>
      originAllowed(req({ origin, host: 'chat.example:8080' }), undefined, scheme);
    expect(same('http://chat.example:8080')).toBe(true);
    expect(same('https://chat.example:8080')).toBe(true);
    expect(same('https://chat.example')).toBe(false);
    expect(same('https://evil.example:8080')).toBe(false);
    expect(same('null')).toBe(false);
    expect(same('file://chat.example:8080')).toBe(false);
    expect(same('chrome-extension://chat.example:8080')).toBe(false);
    expect(same('https://chat.example:8080', 'https:')).toBe(true);
    expect(same('http://chat.example:8080', 'https:')).toBe(false);
  });
});

describe('AccessPolicy', () => {
  it('refuses an unknown host with 421 and a foreign origin with 403', () => {
    const policy = new AccessPolicy({ publicUrl: 'https://chat.example' });
    expect(policy.check(req({ host: 'chat.example', origin: 'https://chat.example' }))).toBeUndefined();
    expect(policy.check(req({ host: 'evil.example' }))).toEqual({ status: 421, reason: 'unknown host' });
    expect(policy.check(req({ host: 'chat.example', origin: 'https://evil.example' }))).toEqual({
      status: 403,
      reason: 'forbidden origin',
    });
    // The public URL says https: a page over plain http is refused.
    expect(policy.check(req({ host: 'chat.example', origin: 'http://chat.example' }))).toEqual({
      status: 403,
      reason: 'forbidden origin',
    });
    expect(policy.hostAllowed(req({ host: 'chat.example' }))).toBe(true);
    expect(policy.hostAllowed(req({ host: 'evil.example' }))).toBe(false);
  });

  it('takes either scheme without a public URL, and the allowed origins when given', () => {
    const open = new AccessPolicy({});
    expect(open.check(req({ host: 'localhost:3000', origin: 'http://localhost:3000' }))).toBeUndefined();
    expect(open.check(req({ host: 'localhost:3000', origin: 'https://localhost:3000' }))).toBeUndefined();
    const listed = new AccessPolicy({
      allowedOrigins: ['https://app.example'],
      allowedHosts: ['api.example'],
    });
    expect(listed.check(req({ host: 'api.example', origin: 'https://app.example' }))).toBeUndefined();
    expect(listed.check(req({ host: 'api.example', origin: 'https://api.example' }))?.status).toBe(403);
    // A public URL of another scheme sets no expectation.
    const ws = new AccessPolicy({ publicUrl: 'ws://chat.example' });
    expect(ws.check(req({ host: 'chat.example', origin: 'https://chat.example' }))).toBeUndefined();
  });
});

describe('bearerCheck', () => {
  const request = (authorization?: string) =>
    ({ get: (name: string) => (name === 'authorization' ? authorization : undefined) }) as unknown as Request;

  it('takes exactly `Bearer <secret>`', () => {
    const check = bearerCheck('s3cret');
    expect(check(request('Bearer s3cret'))).toBe(true);
    expect(check(request('Bearer s3cret2'))).toBe(false);
    expect(check(request('Bearer  s3cret'))).toBe(false);
    expect(check(request('bearer s3cret'))).toBe(false);
    expect(check(request('Basic s3cret'))).toBe(false);
    expect(check(request('xBearer s3cret'))).toBe(false);
    expect(check(request('Bearer s3cret x'))).toBe(false);
    expect(check(request(''))).toBe(false);
    expect(check(request())).toBe(false);
  });
});

describe('trusted proxies, more', () => {
  const peer = (remoteAddress: string | undefined, forwardedFor?: string | string[]) =>
    ({
      socket: { remoteAddress },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    }) as unknown as IncomingMessage;

  it('knows the loopback and private ranges by name', () => {
    const loopback = new TrustedProxies(['loopback']);
    expect(loopback.trusts('127.1.2.3')).toBe(true);
    expect(loopback.trusts('::1')).toBe(true);
    expect(loopback.trusts('::ffff:127.0.0.1')).toBe(true);
    expect(loopback.trusts('10.0.0.1')).toBe(false);
    const local = new TrustedProxies(['private']);
    for (const address of ['10.9.9.9', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fd00::1'])
      expect(local.trusts(address)).toBe(true);
    for (const address of ['172.32.0.1', '192.169.0.1', '11.0.0.1', '2001:db8::1', 'not-an-ip'])
      expect(local.trusts(address)).toBe(false);
    const v4net = new TrustedProxies(['198.51.100.0/24', '2001:db8::7']);
    expect(v4net.trusts('198.51.100.200')).toBe(true);
    expect(v4net.trusts('198.51.101.1')).toBe(false);
    expect(v4net.trusts('2001:db8::7')).toBe(true);
    expect(v4net.trusts('2001:db8::8')).toBe(false);
  });

  it('reads X-Forwarded-For given more than once, skips what is not an address, and falls back to the last hop', () => {
    const trusted = new TrustedProxies(['loopback', 'private']);
    expect(clientAddress(peer('127.0.0.1', ['198.51.100.1', '10.0.0.2']), trusted)).toBe('198.51.100.1');
    expect(clientAddress(peer('127.0.0.1', '198.51.100.1, junk, ::ffff:10.0.0.2'), trusted)).toBe(
      '198.51.100.1',
    );
    expect(clientAddress(peer('127.0.0.1', '10.0.0.3, 10.0.0.2'), trusted)).toBe('10.0.0.3');
    expect(clientAddress(peer(undefined), trusted)).toBe('unknown');
    expect(clientAddress(peer('::ffff:not-v4'), trusted)).toBe('::ffff:not-v4');
  });
});
