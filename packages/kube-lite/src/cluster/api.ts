// The little the launcher asks the API server itself: the nodes and their
// Ready condition, over HTTPS with the admin token and the cluster CA (the
// same path kubectl takes).
import fs from 'node:fs';
import https from 'node:https';

export interface ApiAccess {
  /** https://host:port */
  url: string;
  caFile: string;
  token: string;
}

export interface NodeSummary {
  name: string;
  /** The Ready condition's status: True, False or Unknown (also when the node reports none yet). */
  ready: string;
  internalIp?: string;
}

const REQUEST_TIMEOUT_MS = 5_000;

export function getJson(access: ApiAccess, requestPath: string): Promise<unknown> {
  const ca = fs.readFileSync(access.caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const request = https.get(
      `${access.url}${requestPath}`,
      { ca, headers: { Authorization: `Bearer ${access.token}`, Accept: 'application/json' }, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((response.statusCode ?? 0) >= 300) {
            reject(new Error(`GET ${requestPath}: ${response.statusCode} ${body.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(new Error(`GET ${requestPath}: answer is not JSON`, { cause: error }));
          }
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${requestPath}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

interface NodeList {
  items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[]; addresses?: { type?: string; address?: string }[] } }[];
}

export async function listNodes(access: ApiAccess): Promise<NodeSummary[]> {
  const list = (await getJson(access, '/api/v1/nodes')) as NodeList;
  return (list.items ?? []).map((node) => {
    const internalIp = node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
    return {
      name: node.metadata?.name ?? '',
      ready: node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status ?? 'Unknown',
      ...(internalIp === undefined ? {} : { internalIp }),
    };
  });
}
