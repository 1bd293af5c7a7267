/**
 * Certificates of the local cluster that the API server does not make for itself: a CA for the
 * serving certificates of kwok (the simulated kubelets) and metrics-server, so both are verified
 * rather than trusted blindly, and the aggregation layer's front-proxy CA and client certificate,
 * with which kube-apiserver proves to metrics-server that a request comes through it. ECDSA P-256
 * keys: fast to make on every start. Everything is written into the cluster's run directory.
 */
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** The cluster lives minutes to days; a week is plenty and never expires mid-run. */
const VALIDITY_MS = 7 * 24 * 3600 * 1000;

/** Paths of a PEM certificate and its PKCS#8 key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface LocalPki {
  /** CA that signed the serving certificates below (the APIService's caBundle, metrics-server's kubelet CA). */
  readonly servingCa: string;
  readonly servingCaPem: string;
  /** Serving certificate of kwok's kubelet endpoint (127.0.0.1). */
  readonly kwok: CertFiles;
  /** Serving certificate of metrics-server (127.0.0.1 and metrics-server.kube-system.svc). */
  readonly metricsServer: CertFiles;
  /** The request-header CA of the aggregation layer. */
  readonly frontProxyCa: string;
  /** kube-apiserver's client certificate towards aggregated API servers (CN front-proxy-client). */
  readonly frontProxyClient: CertFiles;
}

interface Authority {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']));
}

async function createAuthority(name: string): Promise<Authority> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + VALIDITY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(
  ca: Authority,
  commonName: string,
  usage: 'server' | 'client',
  names: { ips?: readonly string[]; dns?: readonly string[] } = {},
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await newKeys();
  const sans = [
    ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + VALIDITY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** Makes the certificates and writes them into `dir` (created by the caller). */
export async function writeLocalPki(dir: string): Promise<LocalPki> {
  const write = async (name: string, pem: { certPem: string; keyPem: string }): Promise<CertFiles> => {
    const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    await writeFile(files.cert, pem.certPem);
    await writeFile(files.key, pem.keyPem, { mode: 0o600 });
    return files;
  };
  const [serving, frontProxy] = await Promise.all([createAuthority('paved-local-ca'), createAuthority('paved-front-proxy-ca')]);
  const servingCaPem = serving.cert.toString('pem');
  const servingCa = join(dir, 'paved-local-ca.crt');
  const frontProxyCa = join(dir, 'front-proxy-ca.crt');
  await writeFile(servingCa, servingCaPem);
  await writeFile(frontProxyCa, frontProxy.cert.toString('pem'));
  return {
    servingCa,
    servingCaPem,
    frontProxyCa,
    kwok: await write('kwok-serving', await issue(serving, 'kwok', 'server', { ips: ['127.0.0.1'], dns: ['localhost'] })),
    metricsServer: await write('metrics-server-serving', await issue(serving, 'metrics-server', 'server', {
      ips: ['127.0.0.1'],
      dns: ['localhost', 'metrics-server.kube-system.svc'],
    })),
    frontProxyClient: await write('front-proxy-client', await issue(frontProxy, 'front-proxy-client', 'client')),
  };
}
