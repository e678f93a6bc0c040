// The last line of defence of every command's one-line error: whatever layer built the message
// (a client library, a server quoting what it was sent), the credentials the operator handed this
// process are blanked by value. They are known here: URLs with user:password in the arguments or
// in REDIS_URL, the value of --api-key, and environment variables named like keys.
import { Redactor, urlSecrets } from '../../api/internal.ts';

const SECRET_FLAG = /^--(api-key|password|token|secret)(=|$)/;
const SECRET_ENV = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
const URL_ENV = /URL$/i;

/** A redactor of the secrets that `argv` and `env` hold. */
export function argvRedactor(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Redactor {
  const secrets: string[] = [];
  argv.forEach((arg, i) => {
    const flag = SECRET_FLAG.exec(arg);
    if (flag !== null) secrets.push(flag[2] === '=' ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? ''));
    secrets.push(...urlSecrets(arg.replace(/^--[\w-]+=/, '')));
  });
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SECRET_ENV.test(name)) secrets.push(value);
    if (URL_ENV.test(name)) secrets.push(...urlSecrets(value));
  }
  return new Redactor(secrets);
}
