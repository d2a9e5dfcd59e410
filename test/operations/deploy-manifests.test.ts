/**
 * The config shipped in the Kubernetes ConfigMap must be one our schema
 * accepts, and every key file it names must be a key of the example Secret
 * mounted where it looks, so the manifests cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig } from '../../lib/config/load';

const root = resolve(__dirname, '../..');
const manifests = (file: string) => parseAllDocuments(readFileSync(resolve(root, 'deploy/k8s', file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);

describe('Kubernetes manifests', () => {
  const configMap = manifests('configmap.yaml')[0] as { data: Record<string, string> };
  const config = parseConfig(parseYaml(configMap.data['switchboard.yaml']!), 'deploy/k8s/configmap.yaml');
  const secret = manifests('secret.example.yaml')[0] as { metadata: { name: string }; stringData: Record<string, string> };

  it('ships a config the schema accepts', () => {
    expect(Object.keys(config.routes)).toContain('chat-default');
    expect(config.logging.verbosity).toBe('standard');
  });

  it('reads every upstream key from a file of the mounted Secret', () => {
    const files = Object.values(config.providers).flatMap((p) => p.upstreams.map((u) => u.apiKeyFile));
    for (const file of files) {
      expect(file).toMatch(/^\/etc\/switchboard-keys\//);
      expect(Object.keys(secret.stringData)).toContain(file!.slice('/etc/switchboard-keys/'.length));
    }
    for (const deployment of ['worker.yaml', 'gateway.yaml']) {
      const spec = (manifests(deployment)[0] as { spec: { template: { spec: { volumes: Array<{ name: string; secret?: { secretName: string } }>; containers: Array<{ env: Array<{ name: string; value?: string }>; volumeMounts: Array<{ name: string; mountPath: string }> }> } } } }).spec.template.spec;
      // Temporal payloads are encrypted with keys from a file of the same Secret (docs/security.md).
      const payloadKeys = spec.containers[0]!.env.find((e) => e.name === 'SB_PAYLOAD_KEYS_FILE')?.value;
      expect(payloadKeys).toMatch(/^\/etc\/switchboard-keys\//);
      expect(Object.keys(secret.stringData)).toContain(payloadKeys!.slice('/etc/switchboard-keys/'.length));
      const keys = spec.volumes.find((v) => v.secret?.secretName === secret.metadata.name);
      expect(keys).toBeDefined();
      expect(spec.containers[0]!.volumeMounts).toContainEqual(expect.objectContaining({ name: keys!.name, mountPath: '/etc/switchboard-keys' }));
    }
  });
});
