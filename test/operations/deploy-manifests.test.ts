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
      const spec = (
        manifests(deployment)[0] as {
          spec: {
            template: {
              spec: {
                volumes: Array<{ name: string; secret?: { secretName: string } }>;
                containers: Array<{ env: Array<{ name: string; value?: string }>; volumeMounts: Array<{ name: string; mountPath: string }> }>;
              };
            };
          };
        }
      ).spec.template.spec;
      // Temporal payloads are encrypted with keys from a file of the same Secret (docs/security.md).
      const payloadKeys = spec.containers[0]!.env.find((e) => e.name === 'SB_PAYLOAD_KEYS_FILE')?.value;
      expect(payloadKeys).toMatch(/^\/etc\/switchboard-keys\//);
      expect(Object.keys(secret.stringData)).toContain(payloadKeys!.slice('/etc/switchboard-keys/'.length));
      const keys = spec.volumes.find((v) => v.secret?.secretName === secret.metadata.name);
      expect(keys).toBeDefined();
      expect(spec.containers[0]!.volumeMounts).toContainEqual(expect.objectContaining({ name: keys!.name, mountPath: '/etc/switchboard-keys' }));
    }
  });

  it('connects every pod to NATS with credentials from a Secret, never a literal URL', () => {
    const natsSecret = manifests('secret.example.yaml').find((d) => (d as { metadata: { name: string } }).metadata.name === 'switchboard-nats') as
      { stringData: Record<string, string> } | undefined;
    expect(natsSecret?.stringData.url).toMatch(/^nats:\/\/[^:@/]+:[^@/]+@/);
    for (const deployment of ['worker.yaml', 'gateway.yaml', 'projector.yaml']) {
      type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
      const env = (manifests(deployment)[0] as { spec: { template: { spec: { containers: Array<{ env: Env[] }> } } } }).spec.template.spec.containers[0]!.env;
      const natsUrl = env.find((e) => e.name === 'NATS_URL');
      expect(natsUrl?.value).toBeUndefined();
      expect(natsUrl?.valueFrom?.secretKeyRef).toEqual({ name: 'switchboard-nats', key: 'url' });
    }
  });
});

describe('docker compose nats-cluster profile', () => {
  it('makes every node require the user and password its env file puts in SB_NATS_URL', () => {
    const compose = parseYaml(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[]; profiles?: string[] }>;
    };
    const nodes = Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('nats-cluster'));
    expect(nodes.map(([name]) => name).sort()).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const [, node] of nodes) {
      expect(node.command).toEqual(expect.arrayContaining(['--user', 'switchboard', '--pass', '${SB_NATS_PASSWORD:-}']));
    }
    const envFile = readFileSync(resolve(root, 'config/compose-nats-cluster.env'), 'utf8');
    expect(envFile).toMatch(/^SB_NATS_URL=nats:\/\/switchboard:\$\{SB_NATS_PASSWORD:\?[^}]*\}@nats-1:4222,/m);
  });
});
