/**
 * Reading fields of decoded JSON (Consul and Kubernetes answers) without
 * casts: a non-object reads as {}, a non-string as ''.
 */
export function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
