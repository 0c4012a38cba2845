/**
 * Client-certificate allow-list for TLS listeners (DOMAIN.md §1.3, IHE ATNA): a verified
 * certificate must also match one configured subject or SHA-256 fingerprint.
 */
import type { PeerCertificate } from 'node:tls';

/** The allow-list as configured. */
export interface CertAllowList {
  subjects?: string[];
  fingerprints?: string[];
}

/** Normalises a fingerprint: upper-case hex without colons or spaces. */
export function normaliseFingerprint(text: string): string {
  return text.replace(/[:\s]/g, '').toUpperCase();
}

/** The subject written `K=V,K=V` in the certificate's order (multi-valued RDNs joined with `+`). */
export function subjectString(cert: PeerCertificate): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(cert.subject ?? {})) {
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) parts.push(`${k}=${String(one)}`);
  }
  return parts.join(',');
}

/** True when `cert` matches the allow-list (an empty list allows nothing). */
export function certificateAllowed(cert: PeerCertificate | undefined, allow: CertAllowList): boolean {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return false;
  const fp = cert.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : '';
  if (fp !== '' && (allow.fingerprints ?? []).some((f) => normaliseFingerprint(f) === fp)) return true;
  const subjects = allow.subjects ?? [];
  if (subjects.length === 0) return false;
  const cn = cert.subject?.CN;
  const cns = Array.isArray(cn) ? cn : cn === undefined ? [] : [cn];
  const full = subjectString(cert);
  return subjects.some((s) => s === full || cns.includes(s));
}
