import type { ExampleGen, PositiveExample, Rule } from "../rule.ts";
import { isLikelyPassword } from "./generic-values.ts";

/*
 * Passwords inside connection URIs and connection strings. Only the password is reported,
 * and a validator drops defaults and placeholders (`guest`, `postgres`, `${DB_PASSWORD}`).
 */

/** `user:password@host`; user and password stop at the URI delimiters and at quotes. */
const USERINFO = String.raw`[^\s:@/?#'"<>\x60]{0,100}:([^\s:@/?#'"<>\x60]{6,200})@[A-Za-z0-9_[]`;
/** The longest text USERINFO matches: user, `:`, password, `@` and one host character. */
const USERINFO_MAX = 100 + 1 + 200 + 1 + 1;
/** The longest scheme of a database URI rule: `postgresql+` and a 20-character driver. */
const SCHEME_MAX = "postgresql+".length + 20;
const OWASP_SECRETS = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html";

/** A password a person might choose or a generator produce: letters, digits, a few symbols. */
function password(gen: ExampleGen): string {
  return gen.pick([
    () => gen.alnum(gen.int(12, 24)),
    () => `${gen.alnum(6)}${gen.pick(["-", "_", "."])}${gen.alnum(8)}`,
    () => gen.base64url(20),
  ])();
}

interface UriRuleSpec {
  readonly id: string;
  readonly provider: string;
  readonly what: string;
  readonly schemes: string;
  readonly keywords: readonly string[];
  readonly remediation: string;
  readonly docs: string;
  readonly examples: (gen: ExampleGen, pw: string) => readonly string[];
  readonly negatives: readonly string[];
}

function uriRule(spec: UriRuleSpec): Rule {
  return {
    id: spec.id,
    provider: spec.provider,
    description: `Password in a ${spec.what} connection URI (${spec.keywords.map((k) => `${k}://`).join(", ")}).`,
    keywords: spec.keywords,
    // A keyword starts the scheme, so the match lies within the scheme and the userinfo after it.
    window: { before: 0, after: SCHEME_MAX + "://".length + USERINFO_MAX },
    pattern: new RegExp(String.raw`\b(?:${spec.schemes})://${USERINFO}`),
    secretGroup: 1,
    entropy: 2.5,
    validate: isLikelyPassword,
    severity: "high",
    remediation: spec.remediation,
    docs: spec.docs,
    generic: true,
    examples: {
      positives: (gen): PositiveExample[] => {
        const pw = password(gen);
        return spec.examples(gen, pw).map((text) => ({ text, secret: pw }));
      },
      negatives: spec.negatives,
    },
  };
}

const dbRules: readonly Rule[] = [
  uriRule({
    id: "postgresql-connection-uri",
    provider: "PostgreSQL",
    what: "PostgreSQL",
    schemes: String.raw`postgres(?:ql)?(?:\+[a-z0-9]{1,20})?`,
    keywords: ["postgres"],
    remediation:
      "Change the role's password with `ALTER ROLE <name> WITH PASSWORD '...'` (or in your provider's console), update the applications that use it, and store the new connection string in a vault.",
    docs: "https://www.postgresql.org/docs/current/sql-alterrole.html",
    examples: (gen, pw) => [
      `DATABASE_URL=postgres://app_${gen.lowerAlnum(4)}:${pw}@db.internal.${gen.lowerAlnum(6)}.net:5432/orders`,
      `    engine = create_engine("postgresql+psycopg2://report:${pw}@10.0.3.17/analytics")`,
    ],
    negatives: [
      "postgres://user:password@localhost/db",
      "DATABASE_URL=postgres://user:${DB_PASSWORD}@host/db",
      "postgresql://postgres:postgres@localhost:5432/postgres",
    ],
  }),
  uriRule({
    id: "mysql-connection-uri",
    provider: "MySQL",
    what: "MySQL or MariaDB",
    schemes: String.raw`(?:mysql|mariadb)(?:x|\+[a-z0-9]{1,20})?`,
    keywords: ["mysql", "mariadb"],
    remediation:
      "Change the user's password with `ALTER USER 'name'@'host' IDENTIFIED BY '...'` (or in your provider's console), update the applications that use it, and store the new connection string in a vault.",
    docs: "https://dev.mysql.com/doc/refman/8.4/en/alter-user.html",
    examples: (gen, pw) => [
      `  url: "mysql://shop:${pw}@mysql-${gen.lowerAlnum(5)}.prod.local:3306/shop"`,
      `SQLALCHEMY_DATABASE_URI = 'mariadb+pymysql://billing:${pw}@db1/billing'`,
    ],
    negatives: [
      "mysql://root:@localhost/test",
      "mysql://<user>:<password>@<host>/<db>",
      "mariadb://root:root@127.0.0.1:3306/app",
    ],
  }),
  uriRule({
    id: "mongodb-connection-uri",
    provider: "MongoDB",
    what: "MongoDB",
    schemes: String.raw`mongodb(?:\+srv)?`,
    keywords: ["mongodb"],
    remediation:
      "Change the user's password with `db.changeUserPassword()` or in MongoDB Atlas under Database Access, update the applications that use it, and store the new connection string in a vault.",
    docs: "https://www.mongodb.com/docs/manual/reference/method/db.changeUserPassword/",
    examples: (gen, pw) => [
      `MONGO_URI=mongodb+srv://api:${pw}@cluster0.${gen.lowerAlnum(5)}.mongodb.net/prod?retryWrites=true`,
      `const client = new MongoClient("mongodb://admin:${pw}@mongo-0:27017,mongo-1:27017/?replicaSet=rs0");`,
    ],
    negatives: [
      "mongodb+srv://<username>:<password>@cluster0.example.mongodb.net/",
      "mongodb://admin:admin@localhost:27017",
    ],
  }),
  uriRule({
    id: "redis-connection-uri",
    provider: "Redis",
    what: "Redis",
    schemes: String.raw`rediss?`,
    keywords: ["redis"],
    remediation:
      "Rotate the password with `ACL SETUSER <user> resetpass >newpass` (or `CONFIG SET requirepass`, or your provider's console), update the clients, and store the new URI in a vault.",
    docs: "https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/",
    examples: (gen, pw) => [
      `REDIS_URL=redis://:${pw}@cache.${gen.lowerAlnum(6)}.internal:6379/0`,
      `  broker_url: rediss://default:${pw}@redis-${gen.digits(5)}.cloud.example.net:6380`,
    ],
    negatives: [
      "redis://localhost:6379",
      "REDIS_URL=redis://:foobared@127.0.0.1:6379/0",
      "rediss://default:${REDIS_PASSWORD}@cache:6380",
    ],
  }),
  uriRule({
    id: "amqp-connection-uri",
    provider: "AMQP",
    what: "AMQP (RabbitMQ)",
    schemes: String.raw`amqps?`,
    keywords: ["amqp"],
    remediation:
      "Change the user's password with `rabbitmqctl change_password <user> <new>` (or in your broker's console), update the consumers and producers, and store the new URI in a vault.",
    docs: "https://www.rabbitmq.com/docs/access-control",
    examples: (gen, pw) => [
      `CELERY_BROKER_URL=amqps://worker:${pw}@rabbit.${gen.lowerAlnum(6)}.cloudamqp.com/vhost`,
      `conn, err := amqp.Dial("amqp://orders:${pw}@mq:5672/")`,
    ],
    negatives: ["amqp://guest:guest@localhost:5672", "amqps://user:pass@broker/vhost"],
  }),
  uriRule({
    id: "smtp-connection-uri",
    provider: "SMTP",
    what: "SMTP",
    schemes: String.raw`smtps?`,
    keywords: ["smtp"],
    remediation:
      "Change the mailbox or SMTP credential's password in the mail provider's console (or revoke the SMTP key), update the services that send mail, and store the new URI in a vault.",
    docs: OWASP_SECRETS,
    examples: (gen, pw) => [
      `EMAIL_URL=smtps://noreply%40${gen.lowerAlnum(6)}.com:${pw}@smtp.mailhost.net:465`,
      `  dsn: "smtp://alerts:${pw}@mail.corp.lan:587"`,
    ],
    negatives: ["MAILER_DSN=smtp://user:pass@smtp.example.com:25", "smtp://localhost:1025"],
  }),
];

export const uriRules: readonly Rule[] = [
  ...dbRules,
  {
    id: "generic-url-credentials",
    provider: "Generic",
    description: "Password in the userinfo of an http(s), ftp or sftp URL (https://user:password@host).",
    // The scheme and `://`: most `http` in code is not a URL (`XMLHttpRequest`, `httpClient`).
    keywords: ["http://", "https://", "ftp://", "ftps://"],
    // `ftp` may sit one character into the scheme (`sftp`); the longest scheme is `https`.
    window: { before: 1, after: "https://".length + USERINFO_MAX },
    pattern: new RegExp(
      String.raw`\b(?:https?|s?ftps?)://[^\s:@/?#'"<>\x60]{1,100}:([^\s:@/?#'"<>\x60]{8,200})@[A-Za-z0-9_[]`,
    ),
    secretGroup: 1,
    entropy: 3,
    validate: isLikelyPassword,
    severity: "high",
    remediation:
      "Change the password or revoke the token at the service the URL points to, remove the credentials from the URL (use a credential helper or an Authorization header), and store the new secret in a vault.",
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const a = gen.alnum(20);
        const b = `${gen.alnum(8)}-${gen.alnum(8)}`;
        return [
          { text: `git clone https://deploy:${a}@git.${gen.lowerAlnum(6)}.io/team/app.git`, secret: a },
          { text: `  registry: "https://ci-bot:${b}@nexus.corp.lan/repository/npm/"`, secret: b },
        ];
      },
      negatives: [
        "https://user:password@example.com/path",
        "git clone https://oauth2:${CI_JOB_TOKEN}@gitlab.com/group/repo.git",
        "http://admin:admin123@localhost:8080/manager",
        "see https://example.com:8443/login?next=/home@top",
      ],
    },
  },
  {
    id: "generic-connection-string-password",
    provider: "Generic",
    description:
      "Password in an ADO.NET/ODBC/JDBC connection string (;Password=) or a secret URL query parameter (&password=, ?access_token=).",
    keywords: [
      "passw",
      "pwd",
      "access_token",
      "api_key",
      "apikey",
      "client_secret",
      "auth_token",
      "private_token",
    ],
    // A keyword starts the parameter name, after the delimiter and up to three blanks.
    window: { before: 1 + 3, after: "private_token".length + 2 + 1 + 2 + 200 },
    pattern:
      /[;&?][ \t]{0,3}(?:password|passwd|pwd|access_token|api_key|apikey|client_secret|auth_token|private_token)[ \t]{0,2}=[ \t]{0,2}([^;&'"\s<>{}]{6,200})/i,
    secretGroup: 1,
    entropy: 2.5,
    validate: isLikelyPassword,
    severity: "high",
    remediation:
      "Change the database login's password (e.g. `ALTER LOGIN ... WITH PASSWORD`) or revoke the token at its issuer, move the value out of the connection string into a vault or managed identity, and store the new secret in a vault.",
    docs: "https://learn.microsoft.com/en-us/dotnet/framework/data/adonet/protecting-connection-information",
    generic: true,
    examples: {
      positives: (gen) => {
        const a = password(gen);
        const b = gen.alnum(24);
        const c = password(gen);
        return [
          {
            text: `"Default": "Server=tcp:sql-${gen.lowerAlnum(5)}.database.windows.net,1433;Database=app;User ID=app;Password=${a};Encrypt=True;"`,
            secret: a,
          },
          {
            text: `fetch("https://api.${gen.lowerAlnum(6)}.io/v1/items?limit=10&access_token=${b}")`,
            secret: b,
          },
          { text: `jdbc:sqlserver://db01:1433;databaseName=hr;user=hr_app;password=${c}`, secret: c },
        ];
      },
      negatives: [
        "Server=myServerAddress;Database=myDataBase;User Id=myUsername;Password=myPassword;",
        "Data Source=.;Initial Catalog=App;User ID=sa;Password={your_password};",
        "GET /oauth/token?grant_type=password&password=<password>",
      ],
    },
  },
  {
    id: "generic-netrc-password",
    provider: "Generic",
    description: "Password in a .netrc / _netrc entry (machine host login user password secret).",
    keywords: ["password"],
    pattern:
      /\b(?:machine[ \t]{1,5}[^\s]{1,200}|default)\s{1,20}login[ \t]{1,5}[^\s]{1,200}\s{1,20}password[ \t]{1,5}([^\s]{6,200})/,
    secretGroup: 1,
    entropy: 2.5,
    validate: isLikelyPassword,
    severity: "high",
    remediation:
      "Revoke the password or token at the service named by `machine` (for an API token, in that service's token settings), delete the .netrc from the repository history, and store the new secret in a vault or the OS keychain.",
    docs: "https://everything.curl.dev/usingcurl/netrc.html",
    generic: true,
    examples: {
      positives: (gen) => {
        const a = gen.alnum(32);
        const b = password(gen);
        return [
          {
            text: `machine api.${gen.lowerAlnum(7)}.com\n  login deploy@corp.io\n  password ${a}\n`,
            secret: a,
          },
          { text: `machine ftp.corp.lan login backup password ${b}`, secret: b },
        ];
      },
      negatives: [
        "machine example.com login USERNAME password PASSWORD",
        "machine api.heroku.com\n  login me@example.com\n  password $HEROKU_API_KEY",
      ],
    },
  },
  {
    id: "generic-curl-basic-auth",
    provider: "Generic",
    description: "Password given to curl with -u/--user user:password.",
    keywords: ["curl"],
    pattern: /\bcurl\b[^;|&\r\n]{0,300}?[ \t](?:-u|--user)[ \t]{1,3}["']?[^\s:'"]{1,100}:([^\s'"@]{6,200})/,
    secretGroup: 1,
    entropy: 2.5,
    validate: isLikelyPassword,
    severity: "medium",
    remediation:
      "Change the password or revoke the API token at the service called, pass credentials to curl from a netrc file or an environment variable instead of the command line, and store the new secret in a vault.",
    docs: OWASP_SECRETS,
    generic: true,
    examples: {
      positives: (gen) => {
        const a = password(gen);
        const b = gen.alnum(28);
        return [
          { text: `curl -sS -u admin:${a} https://jenkins.corp.lan/api/json`, secret: a },
          { text: `  - curl --fail --user "ci:${b}" -T build.zip https://nexus.corp.lan/upload/`, secret: b },
        ];
      },
      negatives: [
        "curl -u user:password https://api.example.com",
        "curl -u $USER:$TOKEN https://api.example.com",
        "curl -u sk_test_123:  https://api.example.com",
      ],
    },
  },
];
