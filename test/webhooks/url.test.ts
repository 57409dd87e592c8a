import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  isLoopbackHost,
  isOwnAddress,
  resolvedAddressProblem,
  webhookUrlProblem,
} from '../../src/webhooks/url.js';

const STRICT = { allowLoopback: false };
const DEVELOPMENT = { allowLoopback: true };

describe('webhook endpoint URLs', () => {
  it('accepts https to any public host, under either policy', () => {
    for (const url of [
      'https://example.com/hooks',
      'https://example.com:8443/a/b?c=d',
      'https://8.8.8.8/hook',
      'https://[2606:4700:4700::1111]/hook',
    ]) {
      expect(webhookUrlProblem(url, STRICT), url).toBeNull();
      expect(webhookUrlProblem(url, DEVELOPMENT), url).toBeNull();
    }
  });

  it('refuses address literals of private, link-local, unspecified, multicast, reserved and NAT64 networks', () => {
    for (const url of [
      'https://10.0.0.5/hook',
      'https://172.16.3.4/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/hook',
      'https://0.0.0.0/hook',
      'https://[fd00::1]/hook',
      'https://[fe80::1]/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'https://[::]/hook',
      'https://224.0.0.1/hook',
      'https://239.255.255.250/hook',
      'https://255.255.255.255/hook',
      'https://[ff02::1]/hook',
      'https://[64:ff9b::a00:1]/hook',
      'https://[64:ff9b:1::a00:1]/hook',
      'https://[::ffff:0:a9fe:a9fe]/hook',
      'https://[2002:a9fe:a9fe::]/hook',
      'https://192.0.2.10/hook',
      'https://198.18.0.1/hook',
      'https://198.51.100.7/hook',
      'https://203.0.113.7/hook',
      'https://[2001:db8::1]/hook',
      // IPv4-compatible (the URL parser writes [::127.0.0.1] as [::7f00:1]), Teredo, discard, ORCHID.
      'https://[::127.0.0.1]/hook',
      'https://[::10.0.0.1]/hook',
      'https://[2001::1]/hook',
      'https://[100::1]/hook',
      'https://[2001:10::1]/hook',
    ]) {
      expect(webhookUrlProblem(url, STRICT), url).toMatch(/private or link-local/);
      expect(webhookUrlProblem(url, DEVELOPMENT), url).toMatch(/private or link-local/);
    }
  });

  it('refuses this machine however it is written, unless the deployment allows it', () => {
    for (const url of [
      'https://localhost/hook',
      'https://app.localhost/hook',
      'https://localhost./hook',
      'https://127.0.0.1:5432/',
      'https://127.1/hook',
      'https://0x7f000001/hook',
      'https://0177.0.0.1/hook',
      'https://2130706433/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'http://localhost:3000/hook',
    ]) {
      expect(webhookUrlProblem(url, STRICT), url).toMatch(/this machine.*WEBHOOK_ALLOW_LOOPBACK/);
      expect(webhookUrlProblem(url, DEVELOPMENT), url).toBeNull();
    }
    expect(webhookUrlProblem('http://example.com/hook', STRICT)).toBe('must be an https:// URL');
  });

  it("refuses an address of this machine's own interfaces, as it refuses loopback", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && !address.internal && address.family === 'IPv4')
      .map((address) => address?.address as string);
    for (const address of own) {
      expect(isOwnAddress(address), address).toBe(true);
      expect(webhookUrlProblem(`https://${address}:3000/hook`, STRICT), address).toMatch(/this machine/);
    }
    expect(isOwnAddress('8.8.8.8')).toBe(false);
    expect(isOwnAddress('example.com')).toBe(false);
  });

  it('accepts plain http only to loopback, where loopback is allowed', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://127.1.2.3/hook',
      'http://localhost:3000/',
      'http://[::1]:9000/x',
      'http://127.1/short-form',
    ]) {
      expect(webhookUrlProblem(url, DEVELOPMENT), url).toBeNull();
    }
    for (const url of [
      'http://example.com/hook',
      'http://10.0.0.1/hook',
      'http://128.0.0.1/',
      'http://[::2]/',
    ]) {
      expect(webhookUrlProblem(url, DEVELOPMENT), url).toMatch(/https/);
    }
  });

  it('refuses other schemes, credentials, fragments, port 0, white space around, relative and overlong URLs', () => {
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@example.com/',
      'https://user@example.com/',
      'https://example.com/#frag',
      '/relative',
      'example.com/hook',
      'not a url',
      `https://example.com/${'a'.repeat(2048)}`,
      'https://example.com:0/hook',
      ' https://example.com/hook',
      'https://example.com/hook\n',
    ]) {
      expect(webhookUrlProblem(url, DEVELOPMENT), url).not.toBeNull();
    }
  });

  it('knows loopback hosts', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('LOCALHOST')).toBe(true);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('[::ffff:7f00:1]')).toBe(true);
    expect(isLoopbackHost('api.localhost')).toBe(true);
    expect(isLoopbackHost('localhost.')).toBe(true);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });

  it('refuses the addresses a host name resolves to as it refuses them written in the URL', () => {
    for (const address of [
      '10.0.0.5',
      '169.254.169.254',
      'fd00::1',
      '::ffff:10.0.0.1',
      '64:ff9b::a00:1',
      '0.0.0.0',
    ]) {
      expect(resolvedAddressProblem(address, STRICT), address).toMatch(
        /a private, link-local, multicast or reserved/,
      );
      expect(resolvedAddressProblem(address, DEVELOPMENT), address).not.toBeNull();
    }
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) {
      expect(resolvedAddressProblem(address, STRICT), address).toBe(`${address}, this machine`);
      expect(resolvedAddressProblem(address, DEVELOPMENT), address).toBeNull();
    }
    for (const address of ['93.184.215.14', '2606:4700:4700::1111']) {
      expect(resolvedAddressProblem(address, STRICT), address).toBeNull();
    }
  });
});
