import { describe, expect, it } from 'vitest';
import { expectProblem, useTestApp } from '../support/fixtures.js';

describe('institutions, providers and consent links', () => {
  const t = useTestApp();

  it('lists the providers, with the reason any is unavailable', async () => {
    const team = await t.createTeam();
    const response = await t.as(team).get('/api/banking/providers', { teamId: team.teamId });
    expect(response.statusCode).toBe(200);
    const providers = response.json() as { name: string; available: boolean; reason: string | null }[];
    expect(providers.find((p) => p.name === 'sandbox')).toEqual({
      name: 'sandbox',
      available: true,
      reason: null,
    });
    for (const name of ['gocardless', 'plaid']) {
      const provider = providers.find((p) => p.name === name);
      expect(provider?.available).toBe(false);
      expect(provider?.reason).toMatch(/not set/);
    }
  });

  it('searches the sandbox institutions by country and name', async () => {
    const team = await t.createTeam();
    const all = await t
      .as(team)
      .get('/api/banking/institutions', { teamId: team.teamId, provider: 'sandbox' });
    expect(all.statusCode).toBe(200);
    expect((all.json() as { id: string }[]).map((i) => i.id).sort()).toEqual(['sandbox-eu', 'sandbox-gb']);
    const gb = await t.as(team).get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'sandbox',
      country: 'gb',
    });
    expect(gb.json()).toEqual([
      {
        id: 'sandbox-gb',
        provider: 'sandbox',
        name: 'Sandbox Bank UK',
        countries: ['GB'],
        logoUrl: null,
        maxHistoryDays: 730,
      },
    ]);
    const byName = await t.as(team).get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'sandbox',
      q: 'europe',
    });
    expect((byName.json() as { id: string }[]).map((i) => i.id)).toEqual(['sandbox-eu']);
  });

  it('answers 400 for an unknown provider or country, and 503 for one without credentials', async () => {
    const team = await t.createTeam();
    expectProblem(
      await t.as(team).get('/api/banking/institutions', { teamId: team.teamId, provider: 'nope' }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await t
        .as(team)
        .get('/api/banking/institutions', { teamId: team.teamId, provider: 'sandbox', country: 'GBR' }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await t.as(team).get('/api/banking/institutions', { teamId: team.teamId, provider: 'gocardless' }),
      503,
      'PROVIDER_NOT_CONFIGURED',
    );
  });

  it('creates a sandbox consent link whose consent id then connects', async () => {
    const team = await t.createTeam();
    const link = await t.as(team).post('/api/banking/consents/link', {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-eu',
      redirectUrl: 'https://app.example.com/banks/callback',
    });
    expect(link.statusCode).toBe(201);
    const body = link.json() as { consentId: string; url: string; expiresAt: string };
    expect(new URL(body.url).searchParams.get('consentId')).toBe(body.consentId);
    expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(t.clock.now().getTime());
    const connected = await t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-eu',
      consentId: body.consentId,
    });
    expect(connected.statusCode).toBe(201);
  });

  it('refuses a link with a bad redirect URL, scopes or days', async () => {
    const team = await t.createTeam();
    const base = { teamId: team.teamId, provider: 'sandbox', providerId: 'sandbox-gb' };
    for (const bad of [
      { redirectUrl: 'not a url' },
      { redirectUrl: 'ftp://example.com/x' },
      // RFC 3986 URIs that the WHATWG URL parser, which the adapters and browsers use, refuses.
      ...[
        'https://a.com:65536/cb',
        'https://',
        'https://1.1.1.256/',
        'https://[::1]:99999/',
        'https://xn--/',
      ].map((redirectUrl) => ({ redirectUrl })),
      { redirectUrl: 'https://example.com/cb', scopes: ['everything'] },
      { redirectUrl: 'https://example.com/cb', days: 0 },
    ]) {
      expectProblem(
        await t.as(team).post('/api/banking/consents/link', { ...base, ...bad }),
        400,
        'VALIDATION_FAILED',
      );
    }
    expectProblem(
      await t.as(team).post('/api/banking/consents/link', {
        ...base,
        providerId: 'sandbox-xx',
        redirectUrl: 'https://example.com/cb',
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it("refuses another team's teamId with 403", async () => {
    const team = await t.createTeam();
    const other = await t.createTeam();
    expectProblem(
      await t.as(team).get('/api/banking/institutions', { teamId: other.teamId, provider: 'sandbox' }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await t.as(team).post('/api/banking/consents/link', {
        teamId: other.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        redirectUrl: 'https://example.com/cb',
      }),
      403,
      'FORBIDDEN',
    );
  });
});
