// node:crypto's X509Certificate.subject → `{ C: 'US', ST: 'WA', O: …, CN: … }` for trusted identities.
//
// Node prints one RDN per line as `K=V`, a multi-valued RDN as `K1=V1 + K2=V2`, with RFC 2253
// escapes (`\,` `\+` `\"` `\\` `\<` `\>` `\;`, a leading `\#` or `\ `, a trailing `\ `) and control
// bytes as `\XX`; other UTF-8 is printed raw. So a line never holds a raw newline, and an unescaped
// `+` only ever separates the members of a multi-valued RDN.
import { decode, split, splitAttribute, tokenize } from './dn-text.ts';

/**
 * Members of multi-valued RDNs become ordinary attributes. An attribute type that occurs more than
 * once (two OUs) keeps all its values joined with `+` in certificate order, so a trusted identity
 * naming just one of them does not match: notation-go rejects such subjects outright.
 */
export function parseSubjectName(subject: string): Record<string, string> {
  const values = new Map<string, string[]>();
  for (const line of subject.split('\n')) {
    for (const member of split(tokenize(line), '+')) {
      const attr = splitAttribute(member);
      if (!attr || attr.type === '') continue;
      values.set(attr.type, [...(values.get(attr.type) ?? []), decode(attr.value)]);
    }
  }
  return Object.fromEntries([...values].map(([type, vs]) => [type, vs.join('+')]));
}
